/// The Kubernetes pod and the container a cgroup v2 path belongs to, read from the names the
/// kubelet's cgroup drivers and the container runtimes give their cgroups.
///
/// Path shapes (relative to the cgroup v2 mount):
/// - systemd driver: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice/<scope>`,
///   the uid's dashes written as underscores (a dash separates systemd slice levels); kind and
///   other nested kubelets add a `kubelet.slice/kubelet-` prefix to every level.
/// - cgroupfs driver: `/kubepods/burstable/pod<uid>/<id>` (guaranteed pods: `/kubepods/pod<uid>/<id>`).
/// - container scopes: `cri-containerd-<id>.scope` (containerd), `crio-<id>.scope` (CRI-O),
///   `docker-<id>.scope` (Docker, cri-dockerd), `libpod-<id>.scope` (Podman); under cgroupfs the
///   bare id, and Docker's own `/docker/<id>`.
/// - runtime helpers: `crio-conmon-<id>.scope`, `libpod-conmon-<id>.scope` run beside the
///   container, not in it: they name the pod but no container.
public struct ContainerIdentity: Equatable, Sendable {
    /// The pod's UID with dashes, as `kube_pod_info{uid}` has it.
    public var podUID: String?
    /// The container's full id (64 hex digits), as the runtime and `kube_pod_container_info`
    /// (`containerd://<id>`, `cri-o://<id>`, `docker://<id>`) name it.
    public var containerID: String?

    public init(podUID: String? = nil, containerID: String? = nil) {
        self.podUID = podUID
        self.containerID = containerID
    }

    public var isEmpty: Bool { podUID == nil && containerID == nil }

    /// The identity of the cgroup at `path`; empty for a path no driver or runtime named.
    /// Bounded: a path longer than `maximumPathBytes` names nothing.
    public init(path: String) {
        guard path.utf8.count <= Self.maximumPathBytes else { return }
        for component in path.split(separator: "/") {
            if let uid = Self.podUID(in: component) { podUID = uid; continue }
            if let id = Self.containerID(in: component) { containerID = id }
        }
    }

    /// cgroup paths are at most a few hundred bytes; `PATH_MAX` bounds what the kernel takes.
    public static let maximumPathBytes = 4096

    /// `pod<uid>` (cgroupfs) or `...-pod<uid_with_underscores>.slice` (systemd).
    static func podUID(in component: Substring) -> String? {
        var name = component
        if name.hasSuffix(".slice") {
            name = name.dropLast(".slice".count)
            guard let dash = name.lastIndex(of: "-") else { return nil }
            name = name[name.index(after: dash)...]
        }
        guard name.hasPrefix("pod") else { return nil }
        let uid = String(name.dropFirst(3)).replacingUnderscores()
        return isUUID(uid) ? uid.lowercased() : nil
    }

    /// The id of a container scope, or a bare 64-hex-digit component (cgroupfs).
    static func containerID(in component: Substring) -> String? {
        var name = component
        if name.hasSuffix(".scope") {
            name = name.dropLast(".scope".count)
            if name.hasPrefix("crio-conmon-") || name.hasPrefix("libpod-conmon-") { return nil }
            guard let prefix = scopePrefixes.first(where: { name.hasPrefix($0) }) else { return nil }
            name = name.dropFirst(prefix.count)
        }
        return isContainerID(name) ? String(name).lowercased() : nil
    }

    static let scopePrefixes = ["cri-containerd-", "crio-", "docker-", "libpod-"]

    /// 8-4-4-4-12 hex digits.
    static func isUUID(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        return groups.map(\.count) == [8, 4, 4, 4, 12] && groups.allSatisfy { $0.utf8.allSatisfy(isHexDigit) }
    }

    static func isContainerID(_ text: Substring) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy(isHexDigit)
    }
}

private func isHexDigit(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"): true
    default: false
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        String(decoding: utf8.map { $0 == UInt8(ascii: "_") ? UInt8(ascii: "-") : $0 }, as: UTF8.self)
    }
}
