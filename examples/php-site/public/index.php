<?php
/* index.php - the example site's page: its own login form, or the notes
 * with a live feed over wspulse (app.js connects with a connection token
 * from token.php). */
declare(strict_types=1);
require __DIR__ . '/../lib/app.php';

app_session_start();
$user = app_user();
session_write_close();
header('Cache-Control: no-store');
?><!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Notes — an existing PHP site with wspulse</title>
<style>
body { font-family: sans-serif; max-width: 40em; margin: 2em auto; }
#feed li { margin: .3em 0; } .who { font-weight: bold; } #status { color: #666; }
</style>
</head>
<body>
<h1>Notes</h1>
<?php if ($user === null): ?>
<form id="login" method="post" action="login.php">
  <?php if (isset($_GET['failed'])): ?><p id="login-failed">Wrong name or password.</p><?php endif; ?>
  <label>Name <input name="name" autocomplete="username"></label>
  <label>Password <input name="password" type="password" autocomplete="current-password"></label>
  <button type="submit">Log in</button>
</form>
<?php else: ?>
<p>Logged in to this site as <span id="me"><?= h($user['name']) ?></span>
   (<a href="logout.php">log out</a>). Socket: <span id="status">connecting</span>,
   the server knows you as <span id="ws-user">?</span>.</p>
<form id="add">
  <input id="body" maxlength="500" placeholder="A note for everyone" required>
  <label><input id="rollback" type="checkbox"> roll back</label>
  <button type="submit">Add</button>
</form>
<ul id="feed">
<?php
$r = pg_query(app_db(), 'SELECT id, author, body FROM app_notes ORDER BY id DESC LIMIT 20');
while ($r && ($n = pg_fetch_assoc($r))):
?>
  <li data-id="<?= (int)$n['id'] ?>"><span class="who"><?= h($n['author']) ?></span>: <?= h($n['body']) ?></li>
<?php endwhile; ?>
</ul>
<script src="/jpulse-ws.js"></script>
<script src="app.js" data-namespace="<?= h(app_env('APP_WS_NAMESPACE')) ?>"></script>
<?php endif; ?>
</body>
</html>
