// The etcd server that kube-apiserver stores into during the operator's tests, built from the same
// etcd release as k8s.io/kubernetes uses rather than Debian's older etcd-server package.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
