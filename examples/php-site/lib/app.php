<?php
/* app.php - the example site's shared code (outside the web root):
 * configuration from the PHP-FPM pool's environment, the database, the
 * site's own login session, and the connection token for wspulse.
 *
 *   APP_DB                 libpq conninfo of the database (the site's login)
 *   APP_TOKEN_SECRET_FILE  the same key text as wspulsed's token_secret_file
 *   APP_WS_NAMESPACE       the namespace the pages listen on
 */
declare(strict_types=1);

const APP_TOKEN_TTL = 300;   /* seconds; jPulse.ws asks for a fresh one before every (re)connect */

function app_env(string $name): string
{
    $v = getenv($name);
    if ($v === false || $v === '') {
        http_response_code(500);
        error_log("php-site: $name is not set in the PHP-FPM pool");
        exit("server misconfigured\n");
    }
    return $v;
}

function app_db()
{
    static $db = null;
    if ($db === null) {
        $db = pg_connect(app_env('APP_DB'));
        if ($db === false) {
            http_response_code(503);
            exit("database unavailable\n");
        }
    }
    return $db;
}

function app_session_start(): void
{
    session_name('php_site');
    session_start(['cookie_httponly' => true, 'cookie_samesite' => 'Lax']);
}

/* The logged-in user ['name' => ..., 'roles' => [...]] or null. */
function app_user(): ?array
{
    return isset($_SESSION['user']) ? $_SESSION['user'] : null;
}

function app_json(int $status, array $body): void
{
    http_response_code($status);
    header('Content-Type: application/json');
    header('Cache-Control: no-store');
    echo json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), "\n";
}

function app_b64url(string $bin): string
{
    return rtrim(strtr(base64_encode($bin), '+/', '-_'), '=');
}

/* A connection token (JWT, HS256) for $user: what wspulsed verifies. */
function app_token(array $user): string
{
    $key = file_get_contents(app_env('APP_TOKEN_SECRET_FILE'));
    if ($key === false) {
        http_response_code(500);
        exit("token key unreadable\n");
    }
    if (substr($key, -1) === "\n")
        $key = substr($key, 0, -1);     /* one trailing newline, as wspulsed strips it */
    $now = time();
    $header = app_b64url(json_encode(['alg' => 'HS256', 'typ' => 'JWT']));
    $payload = app_b64url(json_encode([
        'sub' => $user['name'],
        'roles' => $user['roles'],
        'iat' => $now,
        'exp' => $now + APP_TOKEN_TTL,
        'ns' => [app_env('APP_WS_NAMESPACE')],
    ], JSON_UNESCAPED_SLASHES));
    $sig = app_b64url(hash_hmac('sha256', "$header.$payload", $key, true));
    return "$header.$payload.$sig";
}

function h(string $s): string
{
    return htmlspecialchars($s, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8');
}
