package scope

import (
	"fmt"
	"strconv"
)

// Threading is a component's threading model (docs/objects.md).
type Threading int

const (
	// Agile objects are safe to call from many requests at once.
	Agile Threading = iota + 1

	// Apartment objects must be called only from the apartment (one
	// goroutine owning one Lua state) that created them. Lua components
	// are always apartment-threaded, and so is a Go component that does
	// not say it is agile.
	Apartment
)

// String returns "agile" or "apartment-threaded" (and "Threading(n)" for
// anything else).
func (t Threading) String() string {
	switch t {
	case Agile:
		return "agile"
	case Apartment:
		return "apartment-threaded"
	}
	return "Threading(" + strconv.Itoa(int(t)) + ")"
}

// Object is a component instance as scopes see it. Objects are stored and
// returned by reference, never copied.
type Object interface {
	// ProgID names the object's component class, e.g. "Animals.Dog".
	ProgID() string

	// Threading is the object's threading model. Only Agile counts as
	// agile: any other value is treated as Apartment.
	Threading() Threading
}

// Proxy is an Object that forwards every call to the apartment that owns the
// real object and waits for the answer. Proxies are agile: Check accepts any
// Proxy, and its Threading method should report Agile. Package scripting
// implements proxies; scope only recognises them.
type Proxy interface {
	Object

	// Apartment names the apartment the calls go to, for messages and
	// logs (for example "application" or a session's apartment).
	Apartment() string
}

// Terminator is implemented by objects that must be told when their scope
// ends (a component's Terminate).
type Terminator interface {
	Terminate() error
}

// isAgile reports whether o may be shared between requests.
func isAgile(o Object) bool {
	if _, ok := o.(Proxy); ok {
		return true
	}
	return o.Threading() == Agile
}

// describe names an object for messages: its ProgID.
func describe(o Object) string {
	if id := o.ProgID(); id != "" {
		return id
	}
	return fmt.Sprintf("an object of Go type %T", o)
}

// AgilityError is the refusal to store a value in Application or Session
// scope. Its message names the scope, the key and why, e.g.
//
//	Application["ed"]: Animals.Horse is apartment-threaded and cannot be stored in Application scope
//	Session["t"]: a function (at ["handler"]) cannot be stored in Session scope
type AgilityError struct {
	// Scope is the scope's name: "Application" or "Session".
	Scope string

	// Key is the key the value was to be stored under, as the script
	// spelled it.
	Key string

	// Reason is the rest of the message, after `Scope["Key"]: `.
	Reason string
}

func (e *AgilityError) Error() string {
	return e.Scope + "[" + strconv.Quote(e.Key) + "]: " + e.Reason
}

// Check is the agility check of docs/objects.md, run before v is stored
// under key in the scope called scopeName ("Application", "Session"), or,
// with an empty scopeName, before v crosses into an object or out of an
// apartment: its Reason then says only what v is ("a function is not
// plain data", "Animals.Horse is apartment-threaded"). It
// accepts plain data and agile objects, proxies included, anywhere inside
// v; it refuses with an *AgilityError an Object that is not agile, an
// Unstorable (a Lua function, userdata or thread), any other Go type, a
// cycle, and values beyond MaxDepth or MaxElements. A refusal inside a table
// names the path: `Session["t"]: a function (at ["handler"]) cannot be
// stored in Session scope`.
func Check(scopeName, key string, v Value) error {
	_, p := walk(v, false, true)
	if p != nil {
		return agilityError(scopeName, key, p)
	}
	return nil
}

// checkCopy is Check and Copy in one walk: what Contents.Set stores.
func checkCopy(scopeName, key string, v Value) (Value, error) {
	c, p := walk(v, true, true)
	if p != nil {
		return nil, agilityError(scopeName, key, p)
	}
	return c, nil
}

func agilityError(scopeName, key string, p *problem) *AgilityError {
	subject := p.dataError().subject()
	switch {
	case scopeName == "" && p.kind == notAgile:
		return &AgilityError{Reason: subject + " is " + Apartment.String()}
	case scopeName == "":
		return &AgilityError{Reason: subject + " is not plain data"}
	case p.kind == notAgile:
		return &AgilityError{Scope: scopeName, Key: key, Reason: subject + " is " + Apartment.String() + " and cannot be stored in " + scopeName + " scope"}
	}
	return &AgilityError{Scope: scopeName, Key: key, Reason: subject + " cannot be stored in " + scopeName + " scope"}
}
