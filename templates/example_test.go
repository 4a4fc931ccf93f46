package templates_test

import (
	"fmt"

	"lasp/templates"
)

func ExampleSourceAround() {
	src := "<html>\n<% local n = 1 %>\n<%= n.x %>\n</html>\n"
	for _, l := range templates.SourceAround(src, 3, 1) {
		mark := " "
		if l.Current {
			mark = ">"
		}
		fmt.Printf("%d %s %s\n", l.Number, mark, l.Text)
	}
	// Output:
	// 2   <% local n = 1 %>
	// 3 > <%= n.x %>
	// 4   </html>
}
