module b2b-operator/hack/argocd-health

go 1.22.0

require (
	github.com/yuin/gopher-lua v1.1.1
	sigs.k8s.io/yaml v1.4.0
)
