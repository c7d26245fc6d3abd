<?php
/* login.php - the site's own login (its users, its PHP session). */
declare(strict_types=1);
require __DIR__ . '/../lib/app.php';

app_session_start();
if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
    header('Location: index.php', true, 303);
    exit;
}
$name = (string)($_POST['name'] ?? '');
$password = (string)($_POST['password'] ?? '');
$r = pg_query_params(app_db(), 'SELECT password_hash, roles FROM app_users WHERE name = $1', [$name]);
$row = $r ? pg_fetch_assoc($r) : false;
if ($row && password_verify($password, $row['password_hash'])) {
    session_regenerate_id(true);
    $_SESSION['user'] = [
        'name' => $name,
        'roles' => $row['roles'] === '' ? [] : explode(',', $row['roles']),
    ];
    header('Location: index.php', true, 303);
} else {
    header('Location: index.php?failed=1', true, 303);
}
