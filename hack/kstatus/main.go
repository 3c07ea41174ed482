// kstatus: prints how Flux (sigs.k8s.io/cli-utils kstatus) reads one object given as JSON on
// stdin: "<status>\t<message>". The integration tests use it to check our conditions.
package main

import (
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

func main() {
	data, _ := io.ReadAll(os.Stdin)
	obj := &unstructured.Unstructured{}
	// UnmarshalJSON keeps integers as int64, as kstatus expects (encoding/json gives float64).
	if err := obj.UnmarshalJSON(data); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	res, err := status.Compute(obj)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%s\t%s\n", res.Status, res.Message)
}
