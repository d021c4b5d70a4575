import Cgroups
import HistFormat

/// The cgroups named by one table's `decode: cgroup` keys, resolved once per table before it
/// is mapped: each id's path under the cgroup v2 mount and the pod and container it names.
final class CgroupNames: Sendable {
    enum Part: Equatable, Sendable {
        case path, podUID, containerID
    }

    struct Name: Sendable {
        var path: String
        var identity: ContainerIdentity
    }

    private let names: [UInt64: Name]

    init(_ paths: [UInt64: String]) {
        names = paths.mapValues { Name(path: $0, identity: ContainerIdentity(path: $0)) }
    }

    /// The ids in `block`'s keys at `positions`, resolved through `paths`.
    static func resolving(_ block: HistBlock, positions: [Int], through paths: CgroupPaths) -> CgroupNames {
        CgroupNames(paths.paths(for: ids(in: block.entries, at: positions)))
    }

    /// The cgroup ids in the entries' keys at `positions`.
    static func ids(in entries: HistEntries, at positions: [Int]) -> Set<UInt64> {
        var ids: Set<UInt64> = []
        for entry in entries {
            for position in positions where position < entry.keys.count {
                if let id = KeyLabels.unsignedNumber(entry.keys[position].value) { ids.insert(id) }
            }
        }
        return ids
    }

    /// The label value of one part; nil for an id that names no cgroup (one removed since, or
    /// outside the mount): its entries map to no series.
    func label(_ part: Part, of key: KeyValue) -> String? {
        guard let id = KeyLabels.unsignedNumber(key), let name = names[id] else { return nil }
        switch part {
        case .path: return name.path
        case .podUID: return name.identity.podUID ?? ""
        case .containerID: return name.identity.containerID ?? ""
        }
    }
}
