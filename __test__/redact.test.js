'use strict'
// Secret masking in system-info.json (lib/backup/redact.js): a table of real-world command
// lines, each with what must be recorded and the secrets that must never appear; and a real
// process whose command line holds a password, seen through the state snapshot.

const test = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')

const { redactArgs } = require('../lib/backup/redact')
const { systemInfo } = require('../lib/backup/system-info')

// [command line, what is recorded, the secrets in it]
const TABLE = [
  ["mysql -uroot -pS3cretPass mydb", "mysql -uroot -p*** mydb", ["S3cretPass"]],
  ["mysqldump -h db.local -u app -phunter2 --single-transaction shop", "mysqldump -h db.local -u app -p*** --single-transaction shop", ["hunter2"]],
  ["mariadb -uadmin -p\"quoted pw\" -e \"select 1\"", "mariadb -uadmin -p*** -e \"select 1\"", ["quoted pw"]],
  ["MYSQL_PWD=topsecret mysql -u root", "MYSQL_PWD=*** mysql -u root", ["topsecret"]],
  ["env DB_PASS=pa55word node server.js", "env DB_PASS=*** node server.js", ["pa55word"]],
  ["PGPASSWORD=pgsecret psql -h localhost -U postgres", "PGPASSWORD=*** psql -h localhost -U postgres", ["pgsecret"]],
  ["AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY aws s3 ls", "AWS_SECRET_ACCESS_KEY=*** aws s3 ls", ["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"]],
  ["aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE", "aws configure set aws_access_key_id ***", ["AKIAIOSFODNN7EXAMPLE"]],
  ["curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig' https://api.example.com", "curl -H 'Authorization: Bearer ***' https://api.example.com", ["eyJhbGciOiJIUzI1NiJ9"]],
  ["curl -H \"Authorization: Basic dXNlcjpwYXNz\" https://example.com/x", "curl -H \"Authorization: Basic ***\" https://example.com/x", ["dXNlcjpwYXNz"]],
  ["curl -H 'X-Api-Key: 0123456789abcdef' https://api.example.com/v1", "curl -H 'X-Api-Key: ***' https://api.example.com/v1", ["0123456789abcdef"]],
  ["curl -H \"Cookie: session=abcdef123456\" https://example.com", "curl -H \"Cookie: ***\" https://example.com", ["abcdef123456"]],
  ["curl -u alice:wonderland https://example.com/private", "curl -u alice:*** https://example.com/private", ["wonderland"]],
  ["wget --user bob --password=builder https://example.com/f.tgz", "wget --user bob --password=*** https://example.com/f.tgz", ["builder"]],
  ["node app.js --api_key=k3y-v4lue --port 3000", "node app.js --api_key=*** --port 3000", ["k3y-v4lue"]],
  ["node app.js --api-key k3y-v4lue2 --port 3000", "node app.js --api-key *** --port 3000", ["k3y-v4lue2"]],
  ["python manage.py runserver --secret-key=django-insecure-xyz", "python manage.py runserver --secret-key=***", ["django-insecure-xyz"]],
  ["java -Djavax.net.ssl.keyStorePassword=changeit -jar app.jar", "java -Djavax.net.ssl.keyStorePassword=*** -jar app.jar", ["changeit"]],
  ["psql postgres://app:dbpass@localhost:5432/app", "psql postgres://app:***@localhost:5432/app", ["dbpass"]],
  ["git clone https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/org/repo.git", "git clone https://***@github.com/org/repo.git", ["ghp_abcdefghijklmnopqrstuvwxyz0123456789"]],
  ["git clone https://oauth2:glpat-abcdefghijklmnopqrst@gitlab.com/org/repo.git", "git clone https://oauth2:***@gitlab.com/org/repo.git", ["glpat-abcdefghijklmnopqrst"]],
  ["git push https://x-access-token:ghs_abcdefghijklmnopqrstuvwxyz012345@github.com/o/r", "git push https://x-access-token:***@github.com/o/r", ["ghs_abcdefghijklmnopqrstuvwxyz012345"]],
  ["docker login -u user -p dockerpass registry.example.com", "docker login -u user -p *** registry.example.com", ["dockerpass"]],
  ["docker run -e POSTGRES_PASSWORD=pgpw -e API_TOKEN=tok123 postgres", "docker run -e POSTGRES_PASSWORD=*** -e API_TOKEN=*** postgres", ["pgpw","tok123"]],
  ["sshpass -p sshsecret ssh user@host", "sshpass -p *** ssh user@host", ["sshsecret"]],
  ["redis-cli -h cache -a redispass ping", "redis-cli -h cache -a *** ping", ["redispass"]],
  ["npm publish --//registry.npmjs.org/:_authToken=npm_abcdef123456", "npm publish --//registry.npmjs.org/:_authToken=***", ["npm_abcdef123456"]],
  ["stripe listen --api-key sk_live_abcdefghijklmnop1234", "stripe listen --api-key ***", ["sk_live_abcdefghijklmnop1234"]],
  ["OPENAI_API_KEY=sk-abcdefghijklmnopqrstuvwx python bot.py", "OPENAI_API_KEY=*** python bot.py", ["sk-abcdefghijklmnopqrstuvwx"]],
  ["slack-notify --webhook https://hooks.example.com?token=xoxb-123456789012-abcdef", "slack-notify --webhook https://hooks.example.com?token=***", ["xoxb-123456789012-abcdef"]],
  ["https_proxy=http://proxyuser:proxypass@proxy:3128 npm install", "https_proxy=http://proxyuser:***@proxy:3128 npm install", ["proxypass"]],
  ["curl \"https://s3.amazonaws.com/b/k?X-Amz-Signature=abcdef0123&X-Amz-Credential=AKIAXX\"", "curl \"https://s3.amazonaws.com/b/k?X-Amz-Signature=***&X-Amz-Credential=***\"", ["abcdef0123"]],
  ["vault login -method=userpass username=me password=vaultpw", "vault login -method=userpass username=me password=***", ["vaultpw"]],
  ["gh auth login --with-token ghp_zyxwvutsrqponmlkjihgfedcba9876543210", "gh auth login --with-token ***", ["ghp_zyxwvutsrqponmlkjihgfedcba9876543210"]],
  ["ssh -i ~/.ssh/id_ed25519 -p 2222 deploy@host", "ssh -i ~/.ssh/id_ed25519 -p 2222 deploy@host", []],
  ["node /usr/bin/npm run dev -- --port 3000", "node /usr/bin/npm run dev -- --port 3000", []],
  ["mkdir -p /tmp/build && tar -czf out.tgz src", "mkdir -p /tmp/build && tar -czf out.tgz src", []],
]

test('the table holds at least 30 real-world command lines', () => {
  assert.ok(TABLE.length >= 30, `${TABLE.length} rows`)
})

for (const [line, recorded, secrets] of TABLE) {
  test(`masks: ${line}`, () => {
    const out = redactArgs(line)
    assert.equal(out, recorded)
    for (const secret of secrets) assert.ok(!out.includes(secret), `${secret} leaked in ${out}`)
    if (secrets.length === 0) assert.equal(out, line, 'nothing secret: nothing masked')
  })
}

test('masking is idempotent: a recorded line stays as it is', () => {
  for (const [, recorded] of TABLE) assert.equal(redactArgs(recorded), recorded)
})

test('system-info.json: a running process with a password on its command line is recorded masked', { timeout: 20000, skip: process.platform === 'win32' }, async (t) => {
  const secret = 'Hunter2-visible-in-ps'
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 15000)', '--', `MYSQL_PWD=${secret}`, '-H', `Authorization: Bearer ${secret}`], {
    stdio: 'ignore',
  })
  t.after(() => child.kill('SIGKILL'))
  await new Promise((resolve) => child.once('spawn', resolve))
  const info = await systemInfo()
  const mine = info.processes.find((p) => p.pid === child.pid)
  assert.ok(mine, 'the child is among the recorded processes')
  assert.ok(!JSON.stringify(info).includes(secret), 'the password is not in system-info.json')
  assert.match(mine.command, /MYSQL_PWD=\*\*\* -H Authorization: Bearer \*\*\*/)
})
