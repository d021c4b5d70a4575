import Cgroups
import Testing

/// Pod UIDs and container ids from the cgroup paths that kubelet's drivers and the container
/// runtimes make, as they appear under the cgroup v2 mount.
@Suite struct ContainerIdentityTests {
    static let uid = "3b1f5c2e-9d4a-4c1b-8f6e-2a7d9c0b1e44"
    static let systemdUID = "3b1f5c2e_9d4a_4c1b_8f6e_2a7d9c0b1e44"
    static let id = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

    static let shapes: [(String, String, String?, String?)] = [
        ("systemd driver, containerd, burstable",
         "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(systemdUID).slice/cri-containerd-\(id).scope", uid, id),
        ("systemd driver, containerd, guaranteed (no QoS slice)",
         "/kubepods.slice/kubepods-pod\(systemdUID).slice/cri-containerd-\(id).scope", uid, id),
        ("systemd driver, CRI-O, best effort",
         "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod\(systemdUID).slice/crio-\(id).scope", uid, id),
        ("systemd driver, CRI-O's conmon beside the container: the pod, no container",
         "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod\(systemdUID).slice/crio-conmon-\(id).scope", uid, nil),
        ("systemd driver, cri-dockerd",
         "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(systemdUID).slice/docker-\(id).scope", uid, id),
        ("kind: a kubelet nested under kubelet.slice",
         "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod\(systemdUID).slice/cri-containerd-\(id).scope",
         uid, id),
        ("systemd driver, the pod's own slice", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(systemdUID).slice", uid, nil),
        ("cgroupfs driver, burstable", "/kubepods/burstable/pod\(uid)/\(id)", uid, id),
        ("cgroupfs driver, guaranteed", "/kubepods/pod\(uid)/\(id)", uid, id),
        ("cgroupfs driver, best effort (k3s)", "/kubepods/besteffort/pod\(uid)/\(id)", uid, id),
        ("upper-case hex is written lower-case", "/kubepods/pod\(uid.uppercased())/\(id.uppercased())", uid, id),
        ("Docker under systemd, no pod", "/system.slice/docker-\(id).scope", nil, id),
        ("Docker under cgroupfs, no pod", "/docker/\(id)", nil, id),
        ("Podman", "/machine.slice/libpod-\(id).scope", nil, id),
        ("Podman's conmon", "/machine.slice/libpod-conmon-\(id).scope", nil, nil),
        ("a system service", "/system.slice/ssh.service", nil, nil),
        ("a user session", "/user.slice/user-1000.slice/session-3.scope", nil, nil),
        ("the root", "/", nil, nil),
        ("the QoS slice alone", "/kubepods.slice/kubepods-burstable.slice", nil, nil),
        ("a pod uid one digit short", "/kubepods/pod\(uid.dropLast())/\(id)", nil, id),
        ("a pod uid with a non-hex digit", "/kubepods/pod\(uid.dropLast())g/\(id)", nil, id),
        ("a container id one digit short", "/kubepods/pod\(uid)/\(id.dropLast())", uid, nil),
        ("an unknown runtime's scope", "/kubepods.slice/kubepods-pod\(systemdUID).slice/runc-\(id).scope", uid, nil),
        ("a slice named pod-something", "/system.slice/pod-manager.slice", nil, nil),
    ]

    @Test(arguments: shapes.indices)
    func pathShapes(_ index: Int) {
        let (shape, path, uid, id) = Self.shapes[index]
        let identity = ContainerIdentity(path: path)
        #expect(identity.podUID == uid, "\(shape): \(path)")
        #expect(identity.containerID == id, "\(shape): \(path)")
    }

    @Test func aPathPastTheBoundNamesNothing() {
        let long = String(repeating: "/a", count: ContainerIdentity.maximumPathBytes / 2) + "/kubepods/pod\(Self.uid)/\(Self.id)"
        #expect(ContainerIdentity(path: long).isEmpty)
    }
}
