#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import HistFormat
import TraceFS

extension HistCompiler {
    // MARK: actions

    /// `onmatch_parse()` / `track_data_parse()` and `action_parse()`.
    mutating func parseAction(_ text: String) throws(KernelFailure) -> HistAction {
        var rest: Substring
        var handler: HistAction.Handler
        if let body = text.dropPrefix("onmatch(") {
            guard let close = body.firstIndex(of: ")") else {
                log("No closing paren found", at: body)
                throw fail()
            }
            let matchEvent = body[..<close]
            guard let dot = matchEvent.firstIndex(of: ".") else {
                log("Missing subsystem", at: String(matchEvent))
                throw fail()
            }
            let system = String(matchEvent[..<dot])
            let eventName = String(matchEvent[matchEvent.index(after: dot)...])
            guard state.eventExists(EventName(system: system, event: eventName), in: instance) else {
                log("Invalid subsystem or event name", at: eventName)
                throw fail()
            }
            handler = .onmatch(system: system, event: eventName)
            rest = Substring(body)[body.index(after: close)...]
        } else {
            let isMax = text.hasPrefix("onmax(")
            let body = text.dropPrefix(isMax ? "onmax(" : "onchange(") ?? ""
            guard let close = body.firstIndex(of: ")") else { throw fail() }
            let variable = String(body[..<close])
            handler = isMax ? .onmax(variable) : .onchange(variable)
            rest = Substring(body)[body.index(after: close)...]
        }

        guard let dot = rest.firstIndex(of: ".") else {
            log("No action found", at: nil)
            throw fail()
        }
        rest = rest[rest.index(after: dot)...]
        guard let paren = rest.firstIndex(of: "(") else {
            log("No action found", at: nil)
            throw fail()
        }
        let actionName = String(rest[..<paren])
        rest = rest[rest.index(after: paren)...]
        let params: Substring
        let hasClose: Bool
        if let close = rest.firstIndex(of: ")") {
            params = rest[..<close]
            hasClose = true
        } else {
            params = rest
            hasClose = false
        }
        var action = HistAction(handler: handler, kind: .trace, actionName: actionName, usesTraceKeyword: false, params: [])
        let isOnmatch: Bool
        if case .onmatch = handler { isOnmatch = true } else { isOnmatch = false }
        if actionName.hasPrefix("save") {
            try parseActionParameters(String(params), into: &action)
            if isOnmatch {
                log("Handler doesn't support action", at: actionName)
                throw fail()
            }
            action.kind = .save
        } else if actionName.hasPrefix("snapshot") {
            if !hasClose {
                log("No closing paren found", at: String(params))
                throw fail()
            }
            if isOnmatch {
                log("Handler doesn't support action", at: actionName)
                throw fail()
            }
            action.kind = .snapshot
        } else {
            action.usesTraceKeyword = actionName.hasPrefix("trace")
            try parseActionParameters(String(params), into: &action)
            action.kind = .trace
        }
        return action
    }

    /// `parse_action_params()`: each parameter is stripped and must be at least 2 characters.
    mutating func parseActionParameters(_ text: String, into action: inout HistAction) throws(KernelFailure) {
        var first = true
        for raw in text.split(separator: ",", omittingEmptySubsequences: false) {
            if action.params.count >= 64 {
                log("Too many action params", at: nil)
                throw fail()
            }
            let param = String(raw).kernelStripped
            if param.utf8.count < 2 {
                log("Invalid action param", at: param)
                throw fail()
            }
            if first && action.usesTraceKeyword {
                action.syntheticName = param
                first = false
                continue
            }
            first = false
            action.params.append(param)
        }
    }

    struct ActionResult {
        var references: Set<Int> = []
        var syntheticEvents: [String] = []
    }

    /// `create_actions()`: runs only when a new trigger is registered, after the duplicate
    /// check; this is where synthetic events and parameters are looked up.
    mutating func createActions(_ hist: CompiledHist) throws(KernelFailure) -> ActionResult {
        var result = ActionResult()
        var sawSave = false
        for action in hist.actions {
            switch action.handler {
            case .onmatch:
                try createTraceAction(action, hist: hist, result: &result)
            case .onmax(let variable), .onchange(let variable):
                guard variable.hasPrefix("$") else {
                    log("For onmax(x) or onchange(x), x must be a variable", at: variable)
                    throw fail()
                }
                guard hist.variable(named: String(variable.dropFirst())) != nil else {
                    log("Couldn't find onmax or onchange variable", at: String(variable.dropFirst()))
                    throw fail()
                }
                switch action.kind {
                case .trace:
                    try createTraceAction(action, hist: hist, result: &result)
                case .snapshot:
                    break
                case .save:
                    if sawSave {
                        log("Can't have more than one save() action per hist", at: nil)
                        throw fail(EEXIST)
                    }
                    sawSave = true
                    for param in action.params where !fields.contains(where: { $0.name == param }) {
                        log("Couldn't create field variable", at: param)
                        throw fail()
                    }
                }
            }
        }
        return result
    }

    /// `trace_action_create()`.
    mutating func createTraceAction(_ action: HistAction, hist: CompiledHist, result: inout ActionResult) throws(KernelFailure) {
        let name = action.generatedEvent ?? ""
        guard let synthetic = state.synthetic(named: name) else {
            log("Couldn't find synthetic event", at: name)
            throw fail()
        }
        var matchSystem: String?
        var matchEvent: String?
        if case .onmatch(let s, let e) = action.handler {
            matchSystem = s
            matchEvent = e
        }
        for (position, param) in action.params.enumerated() {
            var system: String?
            var eventName: String?
            var item = param
            let parts = param.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            if parts.count == 2 { throw fail() }
            if parts.count == 3 {
                system = parts[0]
                eventName = parts[1]
                item = parts[2]
            }
            let ownEvent = system == nil || (system == event.system && eventName == event.event)
            if item.hasPrefix("$") {
                let variable = String(item.dropFirst())
                if ownEvent, hist.variable(named: variable) != nil {
                    // A variable of the trigger being created.
                } else if let target = findEventVariable(
                    system: system ?? matchSystem, event: eventName ?? matchEvent, name: variable) {
                    result.references.insert(target.triggerID)
                } else {
                    log("Couldn't find param", at: variable)
                    throw fail()
                }
            } else if ownEvent && fields.contains(where: { $0.name == item }) {
                // A field of this event, turned into a field variable.
            } else if let s = system ?? matchSystem, let e = eventName ?? matchEvent {
                let other = EventName(system: s, event: e)
                guard state.histTriggers(on: other, in: instance).first != nil else {
                    log("Matching event histogram not found", at: item)
                    throw fail()
                }
                guard state.fields(of: other)?.contains(where: { $0.name == item }) == true else {
                    log("Couldn't find field", at: item)
                    throw fail()
                }
            } else {
                throw fail()
            }
            if position >= synthetic.fields.count {
                log("Param type doesn't match synthetic event field type", at: param)
                throw fail()
            }
        }
        if action.params.count != synthetic.fields.count {
            log("Param count doesn't match synthetic event field count", at: synthetic.name)
            throw fail()
        }
        result.syntheticEvents.append(synthetic.name)
    }
}
