package display

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"strings"
	"time"

	"fuji/chipset"
)

// ErrNotText is returned by DumpText when the VGA is not in a text mode.
var ErrNotText = errors.New("display: the screen is not in a text mode")

// WritePNG encodes img as a PNG.
func WritePNG(w io.Writer, img image.Image) error {
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	return enc.Encode(w, img)
}

// Screenshot renders v's current screen at machine time now and writes
// it to path as a PNG, at the mode's own resolution (720x400 for text
// mode 3, 320x200 for mode 13h, the VBE resolution under VBE). Call it
// on the goroutine that runs v (or with the machine stopped).
func Screenshot(path string, v *chipset.VGA, now time.Duration) error {
	d := v.Display()
	img, _ := NewRenderer().Render(&d, nil, now)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WritePNG(f, img); err != nil {
		f.Close()
		return fmt.Errorf("screenshot %s: %w", path, err)
	}
	return f.Close()
}

// DumpText writes v's text screen, one line per row, as UTF-8 (code page
// 437, the VGA BIOS's character set), with trailing blanks trimmed. It
// returns ErrNotText in graphics modes.
func DumpText(w io.Writer, v *chipset.VGA) error {
	ts, ok := v.TextScreen()
	if !ok {
		return ErrNotText
	}
	bw := bufio.NewWriter(w)
	for _, line := range TextLines(&ts) {
		bw.WriteString(line)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// TextLines returns the rows of a text screen as UTF-8 strings (code
// page 437), trailing blanks trimmed. NUL and 0xFF, which programs use
// as blanks, become spaces.
func TextLines(ts *chipset.TextScreen) []string {
	lines := make([]string, ts.Rows)
	var b strings.Builder
	for r := 0; r < ts.Rows; r++ {
		b.Reset()
		for _, c := range ts.Cells[r*ts.Cols : (r+1)*ts.Cols] {
			b.WriteRune(cp437[c.Char])
		}
		lines[r] = strings.TrimRight(b.String(), " ")
	}
	return lines
}

// cp437 maps code page 437 to Unicode, with the graphic forms of the
// control codes as the VGA's font draws them (0x00 and 0xFF as space).
var cp437 = [256]rune{
	' ', '☺', '☻', '♥', '♦', '♣', '♠', '•', '◘', '○', '◙', '♂', '♀', '♪', '♫', '☼',
	'►', '◄', '↕', '‼', '¶', '§', '▬', '↨', '↑', '↓', '→', '←', '∟', '↔', '▲', '▼',
	' ', '!', '"', '#', '$', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
	'@', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', '[', '\\', ']', '^', '_',
	'`', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '{', '|', '}', '~', '⌂',
	'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å',
	'É', 'æ', 'Æ', 'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', '¢', '£', '¥', '₧', 'ƒ',
	'á', 'í', 'ó', 'ú', 'ñ', 'Ñ', 'ª', 'º', '¿', '⌐', '¬', '½', '¼', '¡', '«', '»',
	'░', '▒', '▓', '│', '┤', '╡', '╢', '╖', '╕', '╣', '║', '╗', '╝', '╜', '╛', '┐',
	'└', '┴', '┬', '├', '─', '┼', '╞', '╟', '╚', '╔', '╩', '╦', '╠', '═', '╬', '╧',
	'╨', '╤', '╥', '╙', '╘', '╒', '╓', '╫', '╪', '┘', '┌', '█', '▄', '▌', '▐', '▀',
	'α', 'ß', 'Γ', 'π', 'Σ', 'σ', 'µ', 'τ', 'Φ', 'Θ', 'Ω', 'δ', '∞', 'φ', 'ε', '∩',
	'≡', '±', '≥', '≤', '⌠', '⌡', '÷', '≈', '°', '∙', '·', '√', 'ⁿ', '²', '■', ' ',
}
