# Makes the config.json that `crun spec` or `runc spec` writes into a container
# that pins dma-bufs over RDMA within a dmabuf limit (Documentation/runtimes.md):
#
#   jq -f oci-dmabuf.jq --rawfile udmabuf /sys/class/misc/udmabuf/dev \
#      --rawfile uverbs /sys/class/infiniband_verbs/uverbs0/dev config.json
#
# $udmabuf and $uverbs are the devices' "MAJOR:MINOR" lines.
def chardev($path; $dev):
	($dev | rtrimstr("\n") | split(":") | map(tonumber)) as [$major, $minor]
	| {path: $path, type: "c", major: $major, minor: $minor, fileMode: 438};

[chardev("/dev/udmabuf"; $udmabuf), chardev("/dev/infiniband/uverbs0"; $uverbs)] as $devs
# The host's / as the rootfs, bound without its submounts (see the page).
| .root = {path: "/run/hostroot", readonly: true}
| .process.terminal = false
| .process.args = ["sleep", "infinity"]
# No network namespace of its own: the RDMA device (rxe0) is the host's.
| .linux.namespaces |= map(select(.type != "network"))
| .linux.cgroupsPath = "/containers/job"
| .linux.resources.unified = {"dmabuf.pinned.max": "udmabuf 8388608"}
| .linux.devices = $devs
| .linux.resources.devices += [$devs[] | {allow: true, type, major, minor, access: "rw"}]
