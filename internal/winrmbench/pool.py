# The anchor of winrmbench: a pywinrm thread pool (Ansible's engine) doing
# the same work as muster push on each host: NTLM with message encryption,
# one shell, upload.ps1 fed by stdin in the same chunks, hash.ps1, and
# install.ps1 with the same arguments. Reads a JSON job on stdin, prints a
# JSON result.
import base64, json, sys, xmltodict
from concurrent.futures import ThreadPoolExecutor
from winrm.protocol import Protocol

job = json.load(sys.stdin)
data = open(job["installer"], "rb").read()
chunk = job["chunk"]

def send_input(p, sid, cid, payload, end=False):
    # Protocol.send_command_input of pywinrm 0.4 (Debian ships 0.3.0).
    req = {'env:Envelope': p._get_soap_header(
        resource_uri='http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd',
        action='http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send',
        shell_id=sid)}
    stream = req['env:Envelope'].setdefault('env:Body', {}).setdefault('rsp:Send', {}).setdefault('rsp:Stream', {})
    stream['@Name'] = 'stdin'
    stream['@CommandId'] = cid
    stream['#text'] = base64.b64encode(payload).decode('ascii')
    if end:
        stream['@End'] = 'true'
    p.send_message(xmltodict.unparse(req))

def run(p, sid, cmd):
    cid = p.run_command(sid, cmd)
    out, err, code = p.get_command_output(sid, cid)
    p.cleanup_command(sid, cid)
    return out, err, code

def one(host):
    p = Protocol(host["url"], transport='ntlm', username=job["user"], password=job["password"],
                 message_encryption='always', operation_timeout_sec=20, read_timeout_sec=30)
    sid = p.open_shell()
    try:
        cid = p.run_command(sid, host["upload"])
        for i in range(0, len(data), chunk):
            send_input(p, sid, cid, base64.b64encode(data[i:i+chunk]) + b'\n')
        send_input(p, sid, cid, b'', end=True)
        out, err, code = p.get_command_output(sid, cid)
        p.cleanup_command(sid, cid)
        if code != 0:
            return "upload exit %d: %s" % (code, err[-200:])
        out, err, code = run(p, sid, host["hash"])
        if out.strip() != b"sha256 " + job["sha256"].encode():
            return "digest %r" % out
        out, err, code = run(p, sid, host["install"])
        if code != 0:
            return "install exit %d" % code
        return None
    finally:
        p.close_shell(sid)

def safe(h):
    try:
        return one(h)
    except Exception as e:
        return "%s: %s" % (type(e).__name__, e)

with ThreadPoolExecutor(max_workers=job["concurrency"]) as pool:
    results = list(pool.map(safe, job["hosts"]))
print(json.dumps({"ok": sum(1 for r in results if r is None),
                  "errors": [r for r in results if r is not None][:5]}))
