<?php
/* notes.php - POST {body[, rollback]}: insert a note into the site's own
 * table and publish it with wsp_publish() IN THE SAME TRANSACTION, so the
 * broadcast exists if and only if the note committed.  `rollback: true`
 * makes the change and the publish, then rolls back (a demonstration that
 * nothing is sent). */
declare(strict_types=1);
require __DIR__ . '/../lib/app.php';

app_session_start();
$user = app_user();
session_write_close();
if ($user === null)
    return app_json(401, ['success' => false, 'error' => 'not logged in']);
if ($_SERVER['REQUEST_METHOD'] !== 'POST')
    return app_json(405, ['success' => false, 'error' => 'POST only']);
$in = json_decode((string)file_get_contents('php://input'), true);
$body = is_array($in) && is_string($in['body'] ?? null) ? trim($in['body']) : '';
if (preg_match('/^.{1,500}$/su', $body) !== 1)   /* also refuses invalid UTF-8 */
    return app_json(400, ['success' => false, 'error' => 'body: 1 to 500 characters']);

$db = app_db();
pg_query($db, 'BEGIN');
$r = pg_query_params($db,
    'INSERT INTO app_notes (author, body) VALUES ($1, $2) RETURNING id, author, body, created_at', [$user['name'], $body]);
$note = $r ? pg_fetch_assoc($r) : false;
if ($note) {
    $note['id'] = (int)$note['id'];
    $r = pg_query_params($db, 'SELECT wsp_publish($1, $2::jsonb, $3)', [
        app_env('APP_WS_NAMESPACE'),
        json_encode(['type' => 'note-added', 'note' => $note], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE),
        $user['name'],
    ]);
}
if (!$note || !$r) {
    $err = pg_last_error($db);
    pg_query($db, 'ROLLBACK');
    error_log("php-site: note not saved: $err");
    return app_json(500, ['success' => false, 'error' => 'not saved']);
}
if (!empty($in['rollback'])) {
    pg_query($db, 'ROLLBACK');
    return app_json(200, ['success' => true, 'rolledBack' => true]);
}
pg_query($db, 'COMMIT');
app_json(200, ['success' => true, 'note' => $note]);
