import { describe, expect, it } from 'vitest';
import { kamailioConfig, kamailioUsersFile, rtpengineFlags } from './kamailioConfig.js';
import { defaultLabPorts, resolveLabOptions } from './labOptions.js';

const params = {
  dir: '/lab',
  moduleDir: '/usr/lib/x86_64-linux-gnu/kamailio/modules',
  domain: 'callwright.lab',
  ports: defaultLabPorts,
  devices: [{ userPart: 'echo', host: '127.0.0.1', port: 5070 }],
  usersFile: '/lab/kamailio-users.cfg',
  tlsConfigFile: '/lab/kamailio-tls.cfg',
};

describe('kamailioConfig', () => {
  it('turns large UDP requests into TCP only when mtuFallback is on', () => {
    expect(kamailioConfig({ ...params, mtuFallback: true })).toMatch(/^udp_mtu=1300\nudp_mtu_try_proto=TCP$/m);
    const off = kamailioConfig({ ...params, mtuFallback: false });
    expect(off).not.toMatch(/^udp_mtu/m);
  });

  it('aliases the lab domain but never 127.0.0.1, so devices on 127.0.0.1 are not taken for Kamailio', () => {
    const config = kamailioConfig({ ...params, mtuFallback: true });
    expect(config).toMatch(/^alias="callwright\.lab"$/m);
    expect(config).not.toMatch(/^alias=.*127\.0\.0\.1/m);
  });

  it('listens on 127.0.0.1 only: udp+tcp SIP, tcp for ws, tls for wss', () => {
    const listens = kamailioConfig({ ...params, mtuFallback: true }).match(/^listen=.*$/gm);
    expect(listens).toEqual(['listen=udp:127.0.0.1:5060', 'listen=tcp:127.0.0.1:5060', 'listen=tcp:127.0.0.1:8080', 'listen=tls:127.0.0.1:8443']);
  });

  it('listens on more addresses, and picks the source address by route, only when asked to', () => {
    const config = kamailioConfig({ ...params, mtuFallback: true, listenAddresses: ['10.99.0.1'] });
    expect(config.match(/^listen=.*$/gm)).toContain('listen=udp:10.99.0.1:5060');
    expect(config.match(/^listen=.*$/gm)).toContain('listen=tcp:10.99.0.1:5060');
    expect(config).toMatch(/^mhomed=1$/m);
    expect(kamailioConfig({ ...params, mtuFallback: true })).not.toMatch(/^mhomed/m);
  });

  it('routes a device by user part without a transport param (so udp_mtu_try_proto can apply)', () => {
    expect(kamailioConfig({ ...params, mtuFallback: true })).toContain('if ($rU == "echo") {\n        # No ;transport param');
    expect(kamailioConfig({ ...params, mtuFallback: true })).toContain('$du = "sip:127.0.0.1:5070";');
  });

  it('uses the rtpengine flags seen working between Chrome and plain RTP devices', () => {
    const config = kamailioConfig({ ...params, mtuFallback: true });
    for (const flags of Object.values(rtpengineFlags)) expect(config).toContain(`"${flags}"`);
  });

  it('puts the passwords in the users file only, which the config includes by path; no xlog line can print one', () => {
    // The lab's own users, resolved from options as `lab up` does, with a password pattern no config text could hold by chance.
    const { users, extraUsers } = resolveLabOptions({ dir: '/lab', users: { count: 3, password: 'Pw-{user}-q7Z!' } });
    const all = [...users, ...extraUsers];
    expect(all.map((u) => u.password)).toEqual(['Pw-1000-q7Z!', 'Pw-1001-q7Z!', 'Pw-1002-q7Z!', 'secretfirst%20last', 'secret%3Cops%3E']);
    const usersFile = kamailioUsersFile(all);
    for (const { user, password } of all) expect(usersFile).toContain(`    $sht(users=>${user}) = "${password}";\n`);

    const config = kamailioConfig({ ...params, mtuFallback: true });
    expect(config).toContain(`include_file "${params.usersFile}"`);
    for (const { password } of all) expect(config).not.toContain(password);
    // Digest auth reads the password from the table, by the name in the request ($au)...
    const code = config.split('\n').filter((line) => !line.trimStart().startsWith('#')).join('\n');
    expect(code.match(/\$sht\([^)]*\)/g)).toEqual(['$sht(users=>$au)', '$sht(users=>$au)', '$sht(users=>$au)', '$sht(users=>$au)']);
    expect(config).toContain('pv_www_authenticate("callwright.lab", "$sht(users=>$au)", "0")');
    // ...and no log line prints the table, a credential header or a whole message.
    const xlogs = config.split('\n').filter((line) => line.includes('xlog('));
    expect(xlogs.length).toBeGreaterThan(10);
    for (const line of xlogs) expect(line).not.toMatch(/\$sht\(|\$hdr\((Proxy-)?Authorization\)|\$mb\b|\$ad\b/);
  });
});
