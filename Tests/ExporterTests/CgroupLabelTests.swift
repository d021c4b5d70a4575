import Cgroups
@testable import Exporter
import Exposition
import Foundation
import HistFormat
import Testing
import TraceFSTesting

/// A table keyed by cgroup id, mapped with `decode: cgroup` over a tree shaped like a
/// kubelet's cgroups (on tmpfs, where a directory's inode stands for the cgroup id).
@Suite struct CgroupLabelTests {
    static let uid = "3b1f5c2e-9d4a-4c1b-8f6e-2a7d9c0b1e44"
    static let container = String(repeating: "ab", count: 32)
    static let pod = "/kubepods.slice/kubepods-pod3b1f5c2e_9d4a_4c1b_8f6e_2a7d9c0b1e44.slice"
    static let scope = pod + "/cri-containerd-\(container).scope"

    static let yaml = """
        trigger_sets:
          - name: by_cgroup
            synthetic_events:
              - "ftrace_exporter_cg_lat u64 lat; u64 cgroup"
            triggers:
              - event: synthetic/ftrace_exporter_cg_lat
                command: "hist:keys=cgroup,lat.log2:vals=hitcount,lat:size=8192"
                metric:
                  name: ftrace_wakeup_latency_by_cgroup_seconds
                  help: Wakeup latency by cgroup.
                  type: histogram
                  bucket_key: lat
                  scale: 0.000001
                  sum_value: lat
                  labels:
                    - key: cgroup
                      name: cgroup
                      decode: cgroup

        """

    @Test func labelsNameThePathPodAndContainerAndLeaveOutGoneCgroups() throws {
        let root = "/dev/shm/cgroup-labels-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        for path in [Self.scope, "/system.slice/ssh.service"] {
            try FileManager.default.createDirectory(atPath: root + path, withIntermediateDirectories: true)
        }
        func id(_ path: String) throws -> Int { try #require(try FileManager.default.attributesOfItem(atPath: root + path)[.systemFileNumber] as? Int) }
        let text = """
            # event histogram
            #
            # trigger info: hist:keys=cgroup,lat.log2:vals=hitcount,lat:sort=hitcount:size=8192 [active]
            #

            { cgroup: \(try id(Self.scope)), lat: ~ 2^8  } hitcount:          3  lat:        700
            { cgroup: \(try id(Self.scope)), lat: ~ 2^10 } hitcount:          1  lat:       1100
            { cgroup: \(try id("/system.slice/ssh.service")), lat: ~ 2^9  } hitcount:          2  lat:        900
            { cgroup: 987654321, lat: ~ 2^9  } hitcount:          5  lat:       2500

            Totals:
                Hits: 11
                Entries: 4
                Dropped: 0

            """
        let block = try #require(try HistParser.parse(text).blocks.first)
        let config = try ConfigLoader.load(yaml: Self.yaml, file: "t.yml")
        let mapping = try #require(config.triggerSets[0].triggers[0].metric)
        let paths = CgroupPaths(mount: root, clock: { 0 })
        let output = ConfiguredTableMapper(mapping: mapping, cgroupPaths: paths).map(block)
        #expect(output.unnamedCgroupEntries == 1, "the id of no cgroup is left out")
        let exposition = String(decoding: ExpositionEncoder.encode(output.families, format: .text004), as: UTF8.self)
        #expect(exposition.contains(
            "ftrace_wakeup_latency_by_cgroup_seconds_count{cgroup=\"\(Self.scope)\",pod_uid=\"\(Self.uid)\",container_id=\"\(Self.container)\"} 4"),
            "\(exposition)")
        #expect(exposition.contains(
            "ftrace_wakeup_latency_by_cgroup_seconds_count{cgroup=\"/system.slice/ssh.service\",pod_uid=\"\",container_id=\"\"} 2"))
        #expect(!exposition.contains("987654321"))
    }

    @Test func decodeCgroupTakesThePodAndContainerLabelNames() throws {
        let clash = Self.yaml.replacingOccurrences(of: "              decode: cgroup\n",
                                                   with: "              decode: cgroup\n            - key: lat\n              name: pod_uid\n")
        #expect(clash != Self.yaml)
        #expect(throws: ConfigError.self) { try ConfigLoader.load(yaml: clash, file: "t.yml") }
    }

    @Test func theMountIsConfigurable() throws {
        #expect(try ConfigLoader.load(yaml: Self.yaml, file: "t.yml").cgroupMount == "/sys/fs/cgroup")
        #expect(try ConfigLoader.load(yaml: "cgroup_mount: /run/cgroup2\n" + Self.yaml, file: "t.yml").cgroupMount == "/run/cgroup2")
        #expect(throws: ConfigError.self) { try ConfigLoader.load(yaml: "cgroup_mount: sys/fs/cgroup\n" + Self.yaml, file: "t.yml") }
    }

    @Test func theCollectorNamesCgroupsUnderTheMountAndCountsTheRest() throws {
        let root = "/dev/shm/cgroup-collector-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + Self.scope, withIntermediateDirectories: true)
        let scopeID = try #require(try FileManager.default.attributesOfItem(atPath: root + Self.scope)[.systemFileNumber] as? Int)
        let config = try ConfigLoader.load(yaml: "cgroup_mount: \(root)\n" + Self.yaml, file: "t.yml")
        let fs = FakeKernelTraceFS()
        let controller = TriggerController(fs: fs, config: config, logger: Fixtures.quietLogger)
        #expect(try controller.install("by_cgroup").state == .installed)
        let trigger = config.triggerSets[0].triggers[0]
        #expect(fs.setEntries([
            "{ cgroup: \(scopeID), lat: ~ 2^8  } hitcount:          3  lat:        700",
            "{ cgroup: 987654321, lat: ~ 2^9  } hitcount:          5  lat:       2500",
        ], event: trigger.event, instance: config.traceInstance, matching: trigger.command))
        let collector = HistCollector(config: config, reader: fs, logger: Fixtures.quietLogger, features: fs.features(), clock: { 0 })
        let exposition = String(decoding: ExpositionEncoder.encode(collector.collect(), format: .text004), as: UTF8.self)
        #expect(exposition.contains("ftrace_wakeup_latency_by_cgroup_seconds_count{cgroup=\"\(Self.scope)\",pod_uid=\"\(Self.uid)\",container_id=\"\(Self.container)\"} 3"),
                "\(exposition)")
        let unnamed = exposition.split(separator: "\n").filter { $0.hasPrefix("ftrace_hist_unnamed_cgroup_entries{") }
        #expect(unnamed.count == 1 && unnamed[0].hasSuffix(" 1") && unnamed[0].contains(#"event="ftrace_exporter_cg_lat""#), "\(unnamed)")
        #expect(!exposition.contains("987654321"))
    }
}
