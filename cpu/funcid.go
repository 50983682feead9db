package cpu

import "reflect"

// funcID identifies a handler function (for tests and statistics, never
// on a hot path).
func funcID(h handler) uintptr { return reflect.ValueOf(h).Pointer() }
