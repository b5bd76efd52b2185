// Package yamlx reads ssoflow's YAML configuration files strictly (unknown
// keys are errors) and safely: the YAML library has been seen to panic on
// some malformed input (kept as fuzz seeds in pkg/rules and pkg/flows),
// which here becomes an error like any other.
package yamlx

import (
	"fmt"

	"github.com/goccy/go-yaml"
)

// Unmarshal decodes data into v, refusing unknown fields. Errors carry the
// line and column, without the source excerpt.
func Unmarshal(data []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed YAML the parser could not read: %v", r)
		}
	}()
	if err := yaml.UnmarshalWithOptions(data, v, yaml.DisallowUnknownField()); err != nil {
		return fmt.Errorf("%s", yaml.FormatError(err, false, false))
	}
	return nil
}
