#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import HistFormat
import TraceFS

/// A kprobe, kretprobe, fprobe or tracepoint probe event (`trace_kprobe.c`, `trace_fprobe.c`).
struct ProbeEvent: Hashable, Sendable {
    /// `p`, `r`, `f` or `t`.
    var letter: Character
    var maxActive: Int?
    var event: EventName
    /// The probed symbol or tracepoint, with `%return` for an fprobe on the return.
    var place: String
    /// `name=fetcharg[:type]`, as written.
    var arguments: [String]
    var id: Int

    /// A probe on a function's return: its record holds the function and the return address.
    var onReturn: Bool { letter == "r" || (letter == "f" && place.hasSuffix("%return")) }

    /// `trace_kprobe_show()` / `trace_fprobe_show()`: a kretprobe shows its maxactive, the
    /// default (10 on a 2-CPU machine) included.
    var readBack: String {
        let head = String(letter) + (maxActive.map(String.init) ?? (letter == "r" ? "10" : ""))
        return "\(head):\(event.system)/\(event.event) \(place)" + arguments.map { " " + $0 }.joined() + "\n"
    }

    /// The `format` file: the common fields, the probe's own, then one per argument.
    var format: String {
        var lines = KernelText.formatHead(name: event.event, id: id)
        var offset = 8
        let own = onReturn ? ["__probe_func", "__probe_ret_ip"] : ["__probe_ip"]
        for name in own {
            lines.append("\tfield:unsigned long \(name);\toffset:\(offset);\tsize:8;\tsigned:0;")
            offset += 8
        }
        for argument in arguments {
            let name = argument.prefix { $0 != "=" }
            let type = argument.split(separator: ":").dropFirst().last.map(String.init) ?? "u64"
            switch type {
            case "string", "ustring", "symstr":
                lines.append("\tfield:__data_loc char[] \(name);\toffset:\(offset);\tsize:4;\tsigned:1;")
                offset += 4
            default:
                let bits = Int(type.dropFirst()) ?? 64
                let signed = type.hasPrefix("s")
                lines.append("\tfield:\(signed ? "s" : "u")\(bits) \(name);\toffset:\(offset);\tsize:\(bits / 8);\tsigned:\(signed ? 1 : 0);")
                offset += bits / 8
            }
        }
        lines.append("")
        lines.append(onReturn ? "print fmt: \"(%lx <- %lx)\", REC->__probe_func, REC->__probe_ret_ip" : "print fmt: \"(%lx)\", REC->__probe_ip")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Parses `KIND[MAXACTIVE][:[GROUP/]EVENT] PLACE [ARGS]`; logs and throws what the kernel
    /// refuses. `knows` says whether a symbol (or, for `t:`, a tracepoint) exists.
    static func parse(
        _ command: String, id: Int, existing: (EventName) -> Bool, knows: (Character, String) -> Bool,
        log: (_ message: String, _ position: Int) -> Void
    ) throws(KernelFailure) -> ProbeEvent {
        let words = command.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let head = words.first, let letter = head.first else { throw KernelFailure(EINVAL) }
        let colon = head.firstIndex(of: ":") ?? head.endIndex
        let digits = head[head.index(after: head.startIndex)..<colon]
        var maxActive: Int?
        if !digits.isEmpty {
            guard letter == "r", let n = Int(digits), n > 0, n <= 4096 else {
                log(letter == "r" ? "Invalid maxactive number" : "Maxactive is only for function exit", 1)
                throw KernelFailure(EINVAL)
            }
            maxActive = n
        }
        guard words.count >= 2 else {
            log("Probe point is not specified", command.utf8.count)
            throw KernelFailure(EINVAL)
        }
        let place = String(words[1])
        let group = letter == "f" ? "fprobes" : letter == "t" ? "tracepoints" : "kprobes"
        var event = EventName(system: group, event: String(place.prefix { $0 != "%" && $0 != "+" && $0 != ":" }) + "_0")
        if colon < head.endIndex {
            var name = head[head.index(after: colon)...]
            var system = group
            if let slash = name.firstIndex(of: "/") {
                system = String(name[..<slash])
                name = name[name.index(after: slash)...]
            }
            guard SyntheticParser.isGoodName(name), SyntheticParser.isGoodName(Substring(system)) else {
                log("Event name must follow the same rules as C identifiers", ErrorLogEntry.position(of: String(name), in: command))
                throw KernelFailure(EINVAL)
            }
            event = EventName(system: system, event: String(name))
        }
        if existing(event) {
            log("Given group/event name is already used by another event", ErrorLogEntry.position(of: event.event, in: command))
            throw KernelFailure(EEXIST)
        }
        let symbol = String(place.prefix { $0 != "%" && $0 != "+" })
        guard knows(letter, symbol) else {
            log(letter == "t" ? "Tracepoint is not found" : "Invalid probed address or symbol", ErrorLogEntry.position(of: place, in: command))
            throw KernelFailure(ENOENT)
        }
        for argument in words.dropFirst(2) where !argument.contains("=") {
            log("Invalid argument name", ErrorLogEntry.position(of: String(argument), in: command))
            throw KernelFailure(EINVAL)
        }
        return ProbeEvent(letter: letter, maxActive: maxActive, event: event, place: place, arguments: words.dropFirst(2).map(String.init), id: id)
    }
}

extension KernelState {
    /// Where a probe's errors are logged (`trace_probe_log_init()`).
    static func probeLogLocation(_ letter: Character) -> String {
        letter == "f" || letter == "t" ? "trace_fprobe" : "trace_kprobe"
    }

    func probeKindSupported(_ letter: Character) -> Bool {
        switch letter {
        case "p", "r": return features.kprobeEvents
        case "f", "t": return features.fprobeEvents
        default: return false
        }
    }

    /// `dynamic_events` / `kprobe_events` (`kprobeOnly`): one definition or `-:` removal a line.
    mutating func writeProbe(_ command: String, kprobeOnly: Bool) throws(KernelFailure) {
        let letter = command.first ?? " "
        guard probeKindSupported(letter), !kprobeOnly || letter == "p" || letter == "r" else { throw KernelFailure(EINVAL) }
        var entries: [(String, Int)] = []
        let text = command
        let existing = Set(allEvents())
        let probe: ProbeEvent
        do throws(KernelFailure) {
            probe = try ProbeEvent.parse(
                text, id: nextEventID, existing: { existing.contains($0) },
                knows: { letter, name in
                    letter == "t" ? formats.keys.contains { $0.event == name } : KernelState.functions.contains(name)
                },
                log: { entries.append(($0, $1)) })
        } catch {
            for (message, position) in entries {
                log(message, position: position, command: text, location: Self.probeLogLocation(letter), in: .topLevel)
            }
            throw error
        }
        probes.append(probe)
        nextEventID += 1
    }

    /// `-:[GROUP/]EVENT`: a probe (or, through `dynamic_events`, a synthetic event) goes; EBUSY
    /// while a trigger or an enable holds it, in any instance.
    mutating func removeProbe(_ spec: String.SubSequence) throws(KernelFailure) -> Bool {
        var name = spec
        var group: Substring?
        if let slash = spec.firstIndex(of: "/") {
            group = spec[..<slash]
            name = spec[spec.index(after: slash)...]
        }
        guard let index = probes.firstIndex(where: { $0.event.event == name && (group == nil || $0.event.system == group!) }) else {
            return false
        }
        let event = probes[index].event
        for state in instances.values {
            if !(state.hists[event] ?? []).isEmpty || !(state.plainTriggers[event] ?? []).isEmpty || state.enabled.contains(event) {
                throw KernelFailure(EBUSY)
            }
        }
        probes.remove(at: index)
        for key in instances.keys { instances[key]!.enabled.remove(event) }
        return true
    }

    /// Kernel functions a probe can be put on: the ones the tests and the presets name.
    static let functions: Set<String> = [
        "vfs_fsync_range", "vfs_read", "vfs_write", "do_sys_openat2", "do_nanosleep", "schedule", "finish_task_switch",
    ]
}
