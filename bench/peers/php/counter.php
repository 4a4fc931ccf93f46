<?php
// The PHP peer of bench/app/counter.lasp: a session counter in PHP's file
// sessions, printing the new count.
session_start();
$_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1;
echo $_SESSION['n'], "\n";
