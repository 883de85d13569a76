import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A throwaway PKI made with the system's openssl in `dir`: a CA, a server certificate for
 * `serverAltName` (`DNS:name` or `IP:127.0.0.1`), a client's, and a stranger CA with its own client.
 * File paths are returned.
 */
export function makeTestPki(dir: string, serverAltName: string) {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const makeCa = (name: string) =>
    ssl(
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'],
      ...['-subj', `/CN=${name}`, '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.pem`)],
    );
  const issue = (name: string, caName: string, ext: string) => {
    ssl(
      ...['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`],
      ...['-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.csr`)],
    );
    ssl(
      ...['x509', '-req', '-in', join(dir, `${name}.csr`), '-days', '1', '-copy_extensions', 'none'],
      ...['-CA', join(dir, `${caName}.pem`), '-CAkey', join(dir, `${caName}.key`), '-CAcreateserial'],
      ...['-extfile', writeExt(name, ext), '-out', join(dir, `${name}.pem`)],
    );
  };
  const writeExt = (name: string, ext: string) => {
    const file = join(dir, `${name}.ext`);
    writeFileSync(file, ext);
    return file;
  };
  makeCa('ca');
  makeCa('stranger-ca');
  issue('server', 'ca', `subjectAltName=${serverAltName}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  issue('client', 'ca', 'extendedKeyUsage=clientAuth\n');
  issue('stranger-client', 'stranger-ca', 'extendedKeyUsage=clientAuth\n');
  const f = (name: string) => join(dir, name);
  return {
    ca: f('ca.pem'),
    strangerCa: f('stranger-ca.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server.key'),
    clientCert: f('client.pem'),
    clientKey: f('client.key'),
    strangerCert: f('stranger-client.pem'),
    strangerKey: f('stranger-client.key'),
  };
}
