<?php
// The PHP peer of bench/app/table.lasp: the same bytes, escaping like Lasp
// (Go's html.EscapeString).
$name = strtr($_GET['name'] ?? 'world', ['&' => '&amp;', "'" => '&#39;', '<' => '&lt;', '>' => '&gt;', '"' => '&#34;']);
echo "<!DOCTYPE html>\n<html><head><title>Table</title></head>\n<body>\n<h1>Hello, ", $name, "</h1>\n<table>\n<tr><th>#</th><th>Square</th><th>Label</th></tr>\n";
for ($i = 1; $i <= 20; $i++) {
    echo "\n<tr><td>", $i, "</td><td>", $i * $i, "</td><td>row ", $i, "</td></tr>\n";
}
echo "\n</table>\n</body></html>\n";
