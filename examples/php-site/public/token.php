<?php
/* token.php - the connection token for the logged-in user (text/plain),
 * or 401.  jPulse.ws calls it before every (re)connect. */
declare(strict_types=1);
require __DIR__ . '/../lib/app.php';

app_session_start();
$user = app_user();
session_write_close();
header('Cache-Control: no-store');
if ($user === null) {
    http_response_code(401);
    header('Content-Type: text/plain');
    exit("not logged in\n");
}
header('Content-Type: text/plain');
echo app_token($user);
