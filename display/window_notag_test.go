//go:build !window

package display

// windowTagged says this test binary has no window: TestWindowUnderX
// builds one.
const windowTagged = false
