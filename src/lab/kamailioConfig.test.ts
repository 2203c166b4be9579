import { describe, expect, it } from 'vitest';
import { kamailioConfig, kamailioUsersFile, rtpengineCalleeReofferFlags, rtpengineFlags, rtpengineTranscodeFlags } from './kamailioConfig.js';
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

  it('has a transcoding route: the transcode- prefix (PCMU) or an X-Transcode header puts rtpengine between browsers with codec flags', () => {
    const config = kamailioConfig({ ...params, mtuFallback: false });
    expect(rtpengineTranscodeFlags).toBe('always-transcode codec-mask-all codec-transcode-');
    const route = config.slice(config.indexOf('route[TRANSCODE] {'), config.indexOf('# Devices are reached by name'));
    expect(route).toContain('if ($rU =~ "^transcode-.") {\n        $var(transcode) = "PCMU";\n        $rU = $(rU{s.substr,10,0});');
    expect(route).toContain('if (!($hdr(X-Transcode) =~ "^(PCMU|PCMA|G722)$")) {\n            sl_send_reply("400", "X-Transcode: one of PCMU, PCMA, G722");');
    expect(route).toContain('add_rr_param(";transcode=$var(transcode)");');
    // Before the devices and the location lookup, after authentication.
    expect(config.indexOf('route(TRANSCODE);')).toBeGreaterThan(config.indexOf('route(AUTH);'));
    expect(config.indexOf('route(TRANSCODE);')).toBeLessThan(config.indexOf('route(DEVICES);'));
    // In-dialog requests of such a call stay on rtpengine: the caller's re-INVITEs get the codec flags again, the callee's their mirror image.
    expect(config).toContain('modparam("rr", "append_fromtag", 1)');
    expect(config).toContain('if (check_route_param("transcode=")) {\n            $var(transcode) = "callee";');
    expect(config).toContain('if (is_direction("downstream") && check_route_param("transcode=PCMA")) {\n                $var(transcode) = "PCMA";');
    expect(config).toContain('$var(offerFlags) = $var(offerFlags) + " always-transcode codec-mask-all codec-transcode-" + $var(transcode);');
    expect(config).toContain(`if ($var(transcode) == "callee") {\n        $var(offerFlags) = $var(offerFlags) + " ${rtpengineCalleeReofferFlags}";`);
    expect(config).toContain(`} else if (isflagset(FLT_WEBRTC_BOTH)) {\n        rtpengine_answer("${rtpengineFlags.webrtcAnswerToWebrtc}");`);
    // rtpengine reads the SDP without its a=ssrc lines on this route, from a variable set before every offer and answer.
    expect(config).toContain('modparam("rtpengine", "read_sdp_pv", "$var(rtpengineSdp)")');
    expect(config.match(/route\(RTPENGINE_SDP\);\n\s+(rtpengine_offer|if \(isflagset\(FLT_TO_PLAIN)/g)).toHaveLength(2);
    expect(config).toContain('$var(rtpengineSdp) = $(rb{re.subst,/a=ssrc[^[:cntrl:]]*[[:cntrl:]]+//g});');
    // Without the route, browser to browser stays peer to peer.
    expect(config).toContain('if ($var(transcode) == "") {\n            xlog("L_INFO", "media: browser to browser, no rtpengine\\n");\n            return;');
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
