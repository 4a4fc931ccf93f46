// Package scope is the value and scope model that Application and Session
// scope, and the session stores, are built on: what may be shared between
// requests, how it is held, and the few synchronisation primitives that
// sharing needs.
//
// # Plain data
//
// A Value is plain Go data — nil, bool, float64, string, []Value (an array)
// and map[string]Value (a string-keyed table) — or an Object (a component
// instance). Nothing else: no Lua values, no Go types of the embedding
// program. Conversion between Lua and Value lives in package scripting.
//
// Plain data is stored as a deep copy, and reading gives a fresh deep copy.
// A Lua table belongs to one Lua state and one request; Application and
// Session data outlive the request and are read by many requests at once,
// possibly on other servers through a session store. Copying on the way in
// and on the way out means no two requests ever share a mutable value, no lock
// is needed to read one, and what a store saves is exactly what a script set.
// The price is the ASP one: changing a table read from Session changes only
// the copy, so a changed table must be assigned back, as with ASP arrays:
//
//	local cart = Session["cart"]
//	cart[#cart + 1] = item
//	Session["cart"] = cart -- without this line the session is unchanged
//
// Objects are not copied: they are stored and returned by reference. Copy
// refuses anything else, as well as cycles, nesting deeper than MaxDepth and
// values of more than MaxElements elements, with an error that says what was
// found and where (a path such as ["cart"][3]["name"], written as Lua would
// index the value: array positions count from 1).
//
// # Agility
//
// An Object says how it may be called (Threading): Agile objects may be
// called by many requests at once; Apartment objects only from the apartment
// (one goroutine owning one Lua state) that created them. Before anything is
// stored in Application or Session scope, Check accepts plain data and agile
// objects (proxies included) and refuses everything else with an
// *AgilityError naming the scope, the key and why, as docs/objects.md says.
// The Lua side describes values that are not plain data (functions, userdata,
// threads) with Unstorable, so the refusal can say what they were.
//
// # Scopes
//
// Contents is the key/value collection behind Application.Contents and
// Session.Contents; its keys are case-insensitive, as in ASP. Lock is the
// Application lock (Application:Lock/Unlock): owned by one request at a time,
// re-entrant, fair, and bounded by the request's context. Statics holds the
// objects declared in global.lasa for one Application or Session scope and
// creates each exactly once, on first reference.
//
// # Dependencies
//
// scope imports only the standard library. It must never depend on
// gopher-lua (no Lua value may reach it), on net/http (it knows no requests,
// only owners and contexts), or on any other package of this module;
// deps_test.go at the module root enforces it.
package scope
