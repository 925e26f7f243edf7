import Foundation
import Testing
import HFSIngest
import HFSTestSupport

@Suite struct LabelSourceTests {
    func labelsError(_ text: String) -> String? {
        do { _ = try CSVLabels(text: text, name: "labels.csv"); return nil } catch let e as IngestError { return e.message } catch { return "\(error)" }
    }

    @Test func dirsAndNone() throws {
        let dirs = try LabelSource.parse("dirs")
        #expect(dirs.label(forRelativePath: "n01440764/ILSVRC2012_val_00000293.JPEG") == "n01440764")
        #expect(dirs.label(forRelativePath: "a/b/c.jpg") == "a")
        #expect(dirs.label(forRelativePath: "top.jpg") == nil)
        #expect(try LabelSource.parse("none").label(forRelativePath: "a/b.jpg") == nil)
    }

    @Test func csvWithHeaderQuotesAndCRLF() throws {
        let text = "\u{FEFF}path,label\r\n./cats/a.jpg,cat\r\n\"dogs/b, the good.jpg\",\"dog \"\"rex\"\"\"\r\n\r\n\"multi\nline.jpg\",odd\nc.png, spaced \n"
        let labels = try CSVLabels(text: text, name: "l.csv")
        #expect(labels.labels.count == 4)
        #expect(labels.label(for: "cats/a.jpg") == "cat")
        #expect(labels.label(for: "./cats/a.jpg") == "cat")
        #expect(labels.label(for: "dogs/b, the good.jpg") == "dog \"rex\"")
        #expect(labels.label(for: "multi\nline.jpg") == "odd")
        #expect(labels.label(for: "c.png") == "spaced")
        #expect(labels.label(for: "missing.jpg") == nil)
    }

    @Test func csvWithoutHeaderFromFile() throws {
        try withTemporaryDirectory { dir in
            let file = dir.appendingPathComponent("labels.csv")
            try Data("a/1.jpg,x\nb/2.jpg,y".utf8).write(to: file)   // no final newline
            let source = try LabelSource.parse(file.path)
            #expect(source.label(forRelativePath: "a/1.jpg") == "x")
            #expect(source.label(forRelativePath: "b/2.jpg") == "y")
            #expect(source.label(forRelativePath: "c/3.jpg") == nil)
            #expect(throws: IngestError.self) { try LabelSource.parse(dir.appendingPathComponent("nope.csv").path) }
        }
    }

    @Test func csvErrorsNameTheLine() {
        #expect(labelsError("path,label\na.jpg,x\nb.jpg\n") == "labels.csv line 3: expected 2 fields (path,label), found 1")
        #expect(labelsError("a.jpg,x,extra\n") == "labels.csv line 1: expected 2 fields (path,label), found 3")
        #expect(labelsError("a.jpg,x\n\"b.jpg,y\n") == "labels.csv line 2: unterminated quoted field")
        #expect(labelsError("a.jpg,x\nb\"c.jpg,y\n") == "labels.csv line 2: a quote inside an unquoted field (quote the whole field and double inner quotes)")
        #expect(labelsError("a.jpg,x\n\"b.jpg\"z,y\n") == "labels.csv line 2: text after a closing quote")
        #expect(labelsError("a.jpg,x\n./a.jpg,y\n") == "labels.csv line 2: path 'a.jpg' already labelled on line 1")
        #expect(labelsError(",x\n") == "labels.csv line 1: empty path")
    }
}
