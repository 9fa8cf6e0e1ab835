package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// Commands whose arguments after the container id are not husk's to parse: exec's belong to
// the command it runs, ps's to ps(1). runc leaves these alone too.
var keepArgOrder = map[string]bool{"exec": true, "ps": true}

// reorderArgs moves a command's flags that follow its positional arguments in front of
// them, so that `husk update ID --memory 1g` means `husk update --memory 1g ID`. runc's CLI
// library (urfave/cli v1) does this for every command but exec and ps; v2, which husk uses,
// stops at the first positional argument and would take the flags for more ids. Everything
// after a "--" stays where it is; a word that is not one of the command's flags stays a
// positional argument.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	i := 1
	for i < len(args) && isFlag(app.Flags, args[i]) {
		if takesValue(app.Flags, args[i]) {
			i++
		}
		i++
	}
	if i >= len(args) {
		return args
	}
	cmd := app.Command(args[i])
	if cmd == nil || keepArgOrder[cmd.Name] {
		return args
	}
	var flags, positional []string
	rest := args[i+1:]
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		if a == "--" {
			positional = append(positional, rest[j:]...)
			break
		}
		if !isFlag(cmd.Flags, a) {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		if takesValue(cmd.Flags, a) && j+1 < len(rest) {
			j++
			flags = append(flags, rest[j])
		}
	}
	out := append([]string{}, args[:i+1]...)
	out = append(out, flags...)
	return append(out, positional...)
}

// lookupFlag finds the flag that arg ("-x", "--name", "--name=value") names.
func lookupFlag(flags []cli.Flag, arg string) cli.Flag {
	if arg == "-" || arg == "--" || !strings.HasPrefix(arg, "-") {
		return nil
	}
	name := strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-")
	name, _, _ = strings.Cut(name, "=")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}

func isFlag(flags []cli.Flag, arg string) bool {
	return lookupFlag(flags, arg) != nil
}

// takesValue says whether arg is a flag whose value is the next argument.
func takesValue(flags []cli.Flag, arg string) bool {
	f := lookupFlag(flags, arg)
	if f == nil || strings.Contains(arg, "=") {
		return false
	}
	v, ok := f.(interface{ TakesValue() bool })
	return ok && v.TakesValue()
}
