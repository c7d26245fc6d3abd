<?php
/* logout.php - ends the site's session (the page's socket then cannot get
 * a new token: it is closed at the token's exp at the latest). */
declare(strict_types=1);
require __DIR__ . '/../lib/app.php';

app_session_start();
$_SESSION = [];
session_destroy();
header('Location: index.php', true, 303);
