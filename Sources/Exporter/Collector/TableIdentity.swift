import HistFormat
import Locking
import TraceFS

/// A short, stable id for a table: the same trigger gets the same id on every read and
/// after a restart, whatever its pause state or table size.
func tableID(_ info: TriggerInfo) -> String {
    if let known = tableIDs.withLock({ $0[info.text] }) { return known }
    let id = computeTableID(info)
    tableIDs.withLock { memo in
        if memo.count >= tableIDMemoCapacity { memo.removeAll(keepingCapacity: true) }
        memo[info.text] = id
    }
    return id
}

/// Ids by trigger text: every table's id is asked for at every refresh, and rendering its
/// identity costs more than a small table's mapping.
private let tableIDs = Locked<[String: String]>([:])
private let tableIDMemoCapacity = 1024

private func computeTableID(_ info: TriggerInfo) -> String {
    let identity = info.identity
    var text = "name=\(identity.name ?? "")"
    text += "|keys=" + identity.keys.map(\.description).joined(separator: ",")
    text += "|vals=" + identity.values.map(\.description).joined(separator: ",")
    text += "|vars=" + identity.variables.map { "\($0.name)=\($0.expression)" }.joined(separator: ",")
    text += "|sort=" + identity.sort.map(\.description).joined(separator: ",")
    text += "|filter=\(identity.filter ?? "")|actions=" + identity.actions.joined(separator: ":")
    return hashID(text)
}

/// The id of a table among every table the exporter reads: the same trigger on another event
/// or in another instance is another table, so its file is part of the id; stable across
/// reads and restarts like `tableID`, which it starts with so the two are found together.
func tableID(_ info: TriggerInfo, instance: TraceInstance, event: EventName) -> String {
    tableID(info) + "-" + hashID("\(instance.label)|\(event)")
}

/// 8 hex digits of text's 64-bit FNV-1a hash, folded to 32 bits.
private func hashID(_ text: String) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x100_0000_01b3
    }
    let folded = UInt32(truncatingIfNeeded: hash ^ (hash >> 32))
    let hex = String(folded, radix: 16)
    return String(repeating: "0", count: 8 - hex.count) + hex
}
