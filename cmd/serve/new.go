package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"lasp/templates"
)

// runNew is "serve new DIR": it writes the starter application into DIR.
func runNew(args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("serve new", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() {
		fmt.Fprint(fset.Output(), `Usage: serve new DIR

Writes a starter application into DIR, which must be empty or not exist yet.
Then run it with: serve -root DIR
`)
	}
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err: err, reported: true}
	}
	if fset.NArg() != 1 {
		return &usageError{err: errors.New("usage: serve new DIR")}
	}
	dir := fset.Arg(0)
	n, err := writeStarter(dir, templates.Starter())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d files to %s\nrun it with: serve -root %s\n", n, dir, dir)
	return nil
}

// writeStarter copies every directory and regular file of starter into dir
// (directories 0755, files 0644) and returns the number of files written.
// dir must be empty or not exist; a dir that writeStarter created is removed
// again if the copy fails, so the command can simply be run again.
func writeStarter(dir string, starter fs.FS) (n int, err error) {
	created, err := prepareDir(dir)
	if err != nil {
		return 0, err
	}
	if created {
		defer func() {
			if err != nil {
				os.RemoveAll(dir)
			}
		}()
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return 0, err
	}
	defer root.Close()

	err = fs.WalkDir(starter, ".", func(name string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case name == ".":
			return nil
		case d.IsDir():
			return root.Mkdir(filepath.FromSlash(name), 0o755)
		case d.Type().IsRegular():
			n++
			return copyFile(root, starter, name)
		default:
			return fmt.Errorf("starter file %s is not a regular file", name)
		}
	})
	if err != nil {
		return 0, fmt.Errorf("writing starter application into %s: %w", dir, err)
	}
	return n, nil
}

// prepareDir makes sure dir is an empty directory, creating it (and its
// parents) when it does not exist; created reports that it did.
func prepareDir(dir string) (created bool, err error) {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return true, os.MkdirAll(dir, 0o755)
	case err != nil:
		return false, err
	case !info.IsDir():
		return false, fmt.Errorf("%s exists and is not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	if len(entries) > 0 {
		return false, fmt.Errorf("%s is not empty: serve new writes only into an empty or new directory", dir)
	}
	return false, nil
}

// copyFile copies the file name of src to the same name under dst; it never
// overwrites a file.
func copyFile(dst *os.Root, src fs.FS, name string) error {
	in, err := src.Open(name)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := dst.OpenFile(filepath.FromSlash(name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
