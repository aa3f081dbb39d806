/// The parse tree of a template: text, actions that print a pipeline's value, and the
/// control structures `if`, `range` and `with`.
indirect enum TemplateNode: Sendable {
    case text(String)
    /// `{{ pipeline }}`: prints the value (nothing when the pipeline declares variables).
    case action(TemplatePipeline)
    /// `{{if}}`, `{{range}}` or `{{with}}` with its body and its `{{else}}` part.
    case branch(BranchKind, TemplatePipeline, body: [TemplateNode], otherwise: [TemplateNode])
    case breakLoop
    case continueLoop
}

enum BranchKind: String, Sendable {
    case ifBranch = "if", rangeLoop = "range", withBranch = "with"
}

/// Commands joined by `|`, each command's value passed as the last argument of the next;
/// optionally declaring (`$x :=`) or assigning (`$x =`) variables.
struct TemplatePipeline: Sendable {
    var pos: Int
    var variables: [String] = []
    var assigns = false
    var commands: [TemplateCommand] = []
}

/// A function and its arguments, or a single operand.
struct TemplateCommand: Sendable {
    /// Where the command starts and ends in the text (errors quote it).
    var pos: Int
    var end: Int
    var args: [TemplateOperand]
}

indirect enum TemplateOperand: Sendable {
    /// `.`: the current data.
    case dot
    case literal(TemplateValue)
    /// `$name` (`$` alone is the template's data).
    case variable(String, pos: Int)
    /// A function name: called with the command's arguments, or with none as an argument.
    case function(String, pos: Int)
    /// `( pipeline )`.
    case pipeline(TemplatePipeline)
    /// Fields or map keys reached from a base: `.Labels.job`, `$x.Value`, `(…).Labels`.
    case fields(TemplateOperand, [String], pos: Int)
}

/// Why a template did not parse or could not run, worded as Go's text/template words it
/// (`template: NAME:LINE: …` and `template: NAME:LINE:COL: executing "NAME" at <…>: …`).
public struct TemplateError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
