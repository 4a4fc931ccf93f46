package templates

import (
	"embed"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"
)

//go:embed *.html
var pageFiles embed.FS

// pages holds every *.html file of this directory, by file name.
var pages = template.Must(template.New("").Funcs(funcs).ParseFS(pageFiles, "*.html"))

// funcs format numbers for the status page.
var funcs = template.FuncMap{
	"mib": func(n any) string {
		var b float64
		switch x := n.(type) {
		case int64:
			b = float64(x)
		case uint64:
			b = float64(x)
		}
		return strconv.FormatFloat(b/(1<<20), 'f', 0, 64) + " MiB"
	},
	"percent": func(part uint64, whole int64) int {
		if whole <= 0 {
			return 0
		}
		return int(min(100, float64(part)*100/float64(whole)))
	},
	"dur": func(d time.Duration) string {
		switch {
		case d >= time.Minute:
			return d.Round(time.Second).String()
		case d >= time.Second:
			return d.Round(100 * time.Millisecond).String()
		}
		return d.Round(time.Millisecond).String()
	},
	"sub": func(a, b int) int { return a - b },
}

// WriteStatus writes the operators' status page of a live application:
// status is framework's Snapshot (with an optional Notice field shown at
// the top). The page reads the fields it shows by name.
func WriteStatus(w io.Writer, status any) error {
	return pages.ExecuteTemplate(w, "status.html", status)
}

// SourceLine is one line of source shown around an error.
type SourceLine struct {
	Number  int    // 1-based line number
	Text    string // the line without its line ending
	Current bool   // the line the error is on
}

// DevError is what the -dev error page shows.
type DevError struct {
	Status    int          // HTTP status, e.g. 500; zero means 500
	Title     string       // e.g. "Lua runtime error"; empty means the status text
	Message   string       // may span lines
	File      string       // may be empty
	Line      int          // 0 if unknown
	Source    []SourceLine // may be empty
	Traceback string       // may be empty
	RequestID string       // may be empty
}

// WriteDevError writes the detailed -dev error page for e. Everything in e
// is HTML-escaped.
func WriteDevError(w io.Writer, e DevError) error {
	if e.Status == 0 {
		e.Status = http.StatusInternalServerError
	}
	if e.Title == "" {
		e.Title = statusText(e.Status)
	}
	return pages.ExecuteTemplate(w, "dev_error.html", struct {
		DevError
		StatusText string
	}{e, statusText(e.Status)})
}

// WriteError writes the generic error page for status (404, 413, 500,
// 503 ...): the status text, a short sentence, and requestID when it is not
// empty. It never shows details.
func WriteError(w io.Writer, status int, requestID string) error {
	return pages.ExecuteTemplate(w, "error.html", struct {
		Status     int
		StatusText string
		Sentence   string
		RequestID  string
	}{status, statusText(status), sentence(status), requestID})
}

// statusText is http.StatusText with a fallback for unknown codes.
func statusText(status int) string {
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "Error"
}

// sentence explains status to someone who is not a developer.
func sentence(status int) string {
	switch status {
	case http.StatusNotFound:
		return "There is no page at this address."
	case http.StatusMethodNotAllowed:
		return "This address does not accept that kind of request."
	case http.StatusRequestEntityTooLarge:
		return "The request is larger than this server accepts."
	case http.StatusServiceUnavailable:
		return "The server is busy or restarting. Please try again in a moment."
	case http.StatusGatewayTimeout, http.StatusRequestTimeout:
		return "The request took too long and was stopped."
	}
	if status >= 500 {
		return "Something went wrong on our side, and the request could not be completed."
	}
	return "The request could not be handled."
}

// SourceAround returns up to radius lines either side of line (1-based) in
// src, with line marked Current. It returns nil when line is not a line of
// src. Lines end at "\n"; a "\r" before it is dropped, and a final line
// ending does not start another line.
func SourceAround(src string, line, radius int) []SourceLine {
	lines := strings.Split(strings.TrimSuffix(src, "\n"), "\n")
	if src == "" || line < 1 || line > len(lines) {
		return nil
	}
	radius = max(radius, 0)
	first, last := max(line-radius, 1), min(line+radius, len(lines))
	out := make([]SourceLine, 0, last-first+1)
	for n := first; n <= last; n++ {
		out = append(out, SourceLine{
			Number:  n,
			Text:    strings.TrimSuffix(lines[n-1], "\r"),
			Current: n == line,
		})
	}
	return out
}

//go:embed starter
var starterFiles embed.FS

// Starter returns the files of the "serve new" starter application, rooted
// at its top ("index.lasp", "global.lasa", "css/site.css", ...).
func Starter() fs.FS {
	sub, err := fs.Sub(starterFiles, "starter")
	if err != nil {
		panic(err) // "starter" is a valid name: fs.Sub cannot fail
	}
	return sub
}
