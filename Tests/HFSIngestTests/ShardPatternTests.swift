import Testing
import HFSIngest

@Suite struct ShardPatternTests {
    @Test func rangesListsAndSeveralBraces() throws {
        let r = try ShardPattern.expand("shards/train-{0000..0099}.tar")
        #expect(r.count == 100)
        #expect(r.first == "shards/train-0000.tar" && r.last == "shards/train-0099.tar")
        #expect(try ShardPattern.expand("s-{1..10}.tar").last == "s-10.tar")
        #expect(try ShardPattern.expand("s-{1..10}.tar").first == "s-1.tar")
        #expect(try ShardPattern.expand("s-{08..11}") == ["s-08", "s-09", "s-10", "s-11"])
        #expect(try ShardPattern.expand("s-{3..1}") == ["s-3", "s-2", "s-1"])
        #expect(try ShardPattern.expand("{train,val}/x-{0..1}.tar") == ["train/x-0.tar", "train/x-1.tar", "val/x-0.tar", "val/x-1.tar"])
        #expect(try ShardPattern.expand("{a,,b}") == ["a", "", "b"])
        #expect(try ShardPattern.expand("plain.tar") == ["plain.tar"])
        #expect(ShardPattern.isPattern("a-{0..1}.tar") && !ShardPattern.isPattern("a.tar"))
    }

    @Test func malformedPatternsAreClearErrors() {
        func message(_ p: String, limit: Int = 1000) -> String? {
            do { _ = try ShardPattern.expand(p, limit: limit); return nil } catch let e as IngestError { return e.message } catch { return "\(error)" }
        }
        #expect(message("a-{0..9.tar") == "shard pattern 'a-{0..9.tar': unclosed '{' at column 3")
        #expect(message("a-0..9}.tar") == "shard pattern 'a-0..9}.tar': '}' without '{' at column 7")
        #expect(message("a-{}.tar") == "shard pattern 'a-{}.tar': empty '{}' at column 3")
        #expect(message("a-{x..9}") == "shard pattern 'a-{x..9}': range '{x..9}' needs two non-negative integers at column 3")
        #expect(message("a-{-1..9}")?.contains("needs two non-negative integers") == true)
        #expect(message("a-{abc}") == "shard pattern 'a-{abc}': '{abc}' is neither a range (a..b) nor a list (a,b) at column 3")
        #expect(message("{a,{b,c}}")?.contains("nested '{'") == true)
        #expect(message("{0..99}-{0..99}", limit: 1000) == "shard pattern '{0..99}-{0..99}' expands to more than 1000 names")
        #expect(message("{0..99999999999}")?.contains("more than") == true)
    }
}
