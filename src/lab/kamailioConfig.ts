import type { LabPorts, LabUser } from './types.js';

/**
 * rtpengine flags for a call that crosses WebRTC (ICE, DTLS-SRTP, rtcp-mux) and plain RTP.
 * Seen working with Chrome and SIPp/baresip on rtpengine 10.5 (see LAB-NOTES).
 */
export const rtpengineFlags = {
  /** Offer from a browser, on its way to a plain RTP device. */
  webrtcOfferToPlain: 'ICE=remove DTLS=off RTP/AVP rtcp-mux-demux replace-origin replace-session-connection',
  /**
   * The plain device's answer, on its way back to the browser. DTLS=active, not passive: rtpengine
   * already sends its ClientHello while it handles the offer (before the browser has an answer);
   * answered setup:passive, Chromium 156 then never started a handshake of its own and no RTP
   * flowed (seen with rtpengine 10.5). Answered setup:active, the browser is the DTLS server and
   * takes that ClientHello.
   */
  plainAnswerToWebrtc: 'ICE=force DTLS=active UDP/TLS/RTP/SAVPF rtcp-mux-require replace-origin replace-session-connection',
  /** Offer from a plain RTP device, on its way to a browser. */
  plainOfferToWebrtc: 'ICE=force DTLS=passive UDP/TLS/RTP/SAVPF rtcp-mux-offer generate-mid replace-origin replace-session-connection',
  /** The browser's answer, on its way back to the plain device. */
  webrtcAnswerToPlain: 'ICE=remove DTLS=off RTP/AVP rtcp-mux-demux replace-origin replace-session-connection',
  /** Plain RTP on both sides: rtpengine just anchors the media. */
  plainToPlain: 'replace-origin replace-session-connection',
  /**
   * A browser's offer to another browser, only on the transcoding route (browser <-> browser media
   * goes peer to peer otherwise): rtpengine terminates ICE and DTLS-SRTP on both sides. Passive
   * towards the callee, which then starts the handshake (setup:active).
   */
  webrtcOfferToWebrtc: 'ICE=force DTLS=passive UDP/TLS/RTP/SAVPF rtcp-mux-require generate-mid replace-origin replace-session-connection',
  /** The callee browser's answer, on its way back to the calling browser: active, as for plainAnswerToWebrtc. */
  webrtcAnswerToWebrtc: 'ICE=force DTLS=active UDP/TLS/RTP/SAVPF rtcp-mux-require replace-origin replace-session-connection',
} as const;

/**
 * Added to the offer of a call on the transcoding route, followed by the codec asked for (PCMU):
 * every codec the caller offered is masked (left out of the callee's offer, still accepted from
 * the caller) and that codec is offered in their place, so the callee answers with it and
 * rtpengine (libavcodec) re-encodes both ways. always-transcode: the caller is answered with its
 * own first codec (Opus); without it rtpengine 10.5 answered the caller PCMU too (Chromium offers
 * it) and merely relayed.
 */
export const rtpengineTranscodeFlags = 'always-transcode codec-mask-all codec-transcode-';
/**
 * Added to a re-INVITE's offer from the callee in a transcoded call (one from the caller gets
 * rtpengineTranscodeFlags again): the caller is offered Opus only, what browsers call with, and
 * the callee is answered with its own first codec. Without them a hold and resume at either end
 * renegotiated Opus end to end and the transcoding silently stopped mid-call (measured).
 * codec-strip-CN: masked codecs stay accepted from the offerer, so rtpengine 10.5 answered the
 * callee's Chromium CN/8000 too; on hold it sent comfort noise (one packet per 100 ms), rtpengine
 * turned each into one 20 ms Opus frame after stepping the timestamp back 90000, and after the
 * resume the caller's Chromium discarded the late-stamped Opus and played silence for ~2 s
 * (tshark, measured; callwright called it silent_audio, rightly: 4 runs of 16).
 */
export const rtpengineCalleeReofferFlags = 'always-transcode codec-mask-all codec-strip-CN codec-transcode-opus';

/** Codecs the transcoding route may be asked for (X-Transcode header); the transcode- prefix means PCMU. */
export const TRANSCODE_CODECS = ['PCMU', 'PCMA', 'G722'] as const;
/** Calls to sip:transcode-<user>@domain go to <user> through rtpengine, transcoded. */
export const TRANSCODE_PREFIX = 'transcode-';
export const TRANSCODE_HEADER = 'X-Transcode';

/** A device Kamailio routes to by the user part of the request URI (sip:echo@domain). */
export interface KamailioDeviceRoute {
  userPart: string;
  host: string;
  port: number;
}

export interface KamailioConfigParams {
  dir: string;
  moduleDir: string;
  domain: string;
  ports: LabPorts;
  mtuFallback: boolean;
  devices: readonly KamailioDeviceRoute[];
  usersFile: string;
  tlsConfigFile: string;
  /** IPv4 addresses to listen on beside 127.0.0.1 (UDP and TCP), for devices outside loopback. */
  listenAddresses?: readonly string[];
}

/**
 * The whole kamailio.cfg. Browsers register over ws/wss and call devices by name;
 * devices and SIPp on UDP/TCP are trusted (no auth) and call registered users.
 */
export function kamailioConfig(p: KamailioConfigParams): string {
  const realm = p.domain;
  const mtuSettings = p.mtuFallback
    ? '# RFC 3261 18.1.1: a request over 1300 bytes goes over TCP, not UDP.\nudp_mtu=1300\nudp_mtu_try_proto=TCP'
    : '# mtuFallback off: large requests still go out over UDP (fragmented if need be).';
  const extraListen = (p.listenAddresses ?? [])
    .map((address) => `listen=udp:${address}:${p.ports.sipUdpTcp}\nlisten=tcp:${address}:${p.ports.sipUdpTcp}`)
    .join('\n');
  // With several addresses, pick the one that routes to the destination (a device in a network
  // namespace cannot answer a request sent from 127.0.0.1).
  const multiHomed = extraListen ? `${extraListen}\nmhomed=1\n` : '';
  const deviceRoutes = p.devices
    .map(
      (d) => `    if ($rU == "${d.userPart}") {
        # No ;transport param: Kamailio then picks the transport, and udp_mtu_try_proto can apply.
        $du = "sip:${d.host}:${d.port}";
        route(MEDIA_OFFER);
        route(RELAY);
    }`,
    )
    .join('\n');

  return `#!KAMAILIO
# Generated by 'callwright lab up'; rewritten on every start.

# Transaction flags: which way rtpengine_answer must convert the answer.
#!define FLT_TO_PLAIN 1
#!define FLT_TO_WEBRTC 2
#!define FLT_PLAIN 3
#!define FLT_WEBRTC_BOTH 4
#!define FLT_TRANSCODE 5

####### Global parameters #########
debug=2
log_stderror=yes
log_prefix="{$mt $ci} "
children=2
tcp_children=2
auto_aliases=no
# Requests to the lab domain are for us. Never alias 127.0.0.1: the devices on 127.0.0.1
# would then look like Kamailio itself and in-dialog ACK/BYE to them would break.
alias="${p.domain}"
listen=udp:127.0.0.1:${p.ports.sipUdpTcp}
listen=tcp:127.0.0.1:${p.ports.sipUdpTcp}
listen=tcp:127.0.0.1:${p.ports.ws}
listen=tls:127.0.0.1:${p.ports.wss}
${multiHomed}enable_tls=yes
tcp_accept_no_cl=yes
tcp_connection_lifetime=3605
tcp_rd_buf_size=65536
${mtuSettings}

####### Modules #########
mpath="${p.moduleDir}/"
loadmodule "tls.so"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
loadmodule "ctl.so"
loadmodule "nathelper.so"
loadmodule "xhttp.so"
loadmodule "websocket.so"
loadmodule "sdpops.so"
loadmodule "auth.so"
loadmodule "htable.so"
loadmodule "rtpengine.so"

modparam("tls", "config", "${p.tlsConfigFile}")
modparam("ctl", "binrpc", "unix:${p.dir}/kamailio_ctl")
modparam("tm", "fr_timer", 5000)
modparam("tm", "fr_inv_timer", 60000)
modparam("rr", "enable_double_rr", 1)
# ;ftag= on Record-Route: is_direction() tells the caller's in-dialog requests from the callee's.
modparam("rr", "append_fromtag", 1)
modparam("usrloc", "db_mode", 0)
# Drop contacts of closed WebSocket connections (pages that went away).
modparam("usrloc", "handle_lost_tcp", 1)
modparam("usrloc", "close_expired_tcp", 1)
modparam("registrar", "received_avp", "$avp(RECEIVED)")
modparam("nathelper", "received_avp", "$avp(RECEIVED)")
modparam("websocket", "keepalive_mechanism", 0)
modparam("websocket", "sub_protocols", 1)
modparam("htable", "htable", "users=>size=8;")
modparam("rtpengine", "rtpengine_sock", "udp:127.0.0.1:${p.ports.rtpengineNg}")
# Retry rtpengine soon if it was not up yet when Kamailio started.
modparam("rtpengine", "rtpengine_disable_tout", 5)
# rtpengine reads the SDP from here, not from the message: route[RTPENGINE_SDP] sets it before each offer and answer.
modparam("rtpengine", "read_sdp_pv", "$var(rtpengineSdp)")

# The digest users: event_route[htable:mod-init] fills $sht(users=>USER) with the password.
include_file "${p.usersFile}"

####### Routing #########
request_route {
    # Per message: a $var outlives the message in this process.
    $var(transcode) = "";
    route(REQINIT);
    xlog("L_INFO", "--> $rm $ru from $si:$sp/$proto len=$ml\\n");
    route(WS_NAT);

    if (is_method("CANCEL")) {
        if (t_check_trans()) {
            rtpengine_delete();
            route(RELAY);
        }
        exit;
    }
    if (!is_method("ACK")) {
        if (t_precheck_trans()) {
            t_check_trans();
            exit;
        }
        t_check_trans();
    }

    route(WITHINDLG);

    remove_hf("Route");
    if (is_method("INVITE|SUBSCRIBE")) {
        record_route();
    }

    if (is_method("OPTIONS") && uri == myself && $rU == $null) {
        sl_send_reply("200", "OK");
        exit;
    }
    if (is_method("REGISTER")) {
        route(REGISTRAR);
        exit;
    }
    if (uri != myself) {
        sl_send_reply("403", "Not relaying to other domains");
        exit;
    }
    route(AUTH);
    if ($rU == $null) {
        sl_send_reply("484", "Address Incomplete");
        exit;
    }
    route(TRANSCODE);
    route(DEVICES);
    route(LOCATION);
}

route[REQINIT] {
    if (!mf_process_maxfwd_header("10")) {
        sl_send_reply("483", "Too Many Hops");
        exit;
    }
    if (!sanity_check()) {
        xlog("L_WARN", "malformed SIP request from $si:$sp\\n");
        exit;
    }
}

# WebSocket clients cannot be reached at the address in their Contact: remember the
# connection they came from (alias / received) so requests go back down it.
route[WS_NAT] {
    if (!nat_uac_test("64")) {
        return;
    }
    force_rport();
    if (is_method("REGISTER")) {
        fix_nated_register();
    } else if (is_present_hf("Contact")) {
        if (!add_contact_alias()) {
            xlog("L_ERR", "cannot alias contact <$ct>\\n");
            sl_send_reply("400", "Bad Request");
            exit;
        }
    }
}

route[WITHINDLG] {
    if (!has_totag()) {
        return;
    }
    if (loose_route()) {
        if ($du == $null) {
            handle_ruri_alias();
        }
        # A transcoded call keeps its media, and its codecs, on rtpengine: the caller's re-INVITEs
        # get the transcoding flags again, the callee's keep what rtpengine set up.
        if (check_route_param("transcode=")) {
            $var(transcode) = "callee";
${TRANSCODE_CODECS.map((codec) => `            if (is_direction("downstream") && check_route_param("transcode=${codec}")) {
                $var(transcode) = "${codec}";
            }`).join('\n')}
        }
        if (is_method("BYE")) {
            rtpengine_delete();
        } else if (is_method("INVITE|UPDATE")) {
            route(MEDIA_OFFER);
        }
        route(RELAY);
        exit;
    }
    if (is_method("ACK")) {
        if (t_check_trans()) {
            route(RELAY);
        }
        exit;
    }
    sl_send_reply("404", "Not here");
    exit;
}

route[REGISTRAR] {
    if (!has_credentials("${realm}")) {
        www_challenge("${realm}", "0");
        exit;
    }
    if ($sht(users=>$au) == $null) {
        xlog("L_NOTICE", "REGISTER from unknown user '$au' ($si:$sp)\\n");
        www_challenge("${realm}", "0");
        exit;
    }
    if (!pv_www_authenticate("${realm}", "$sht(users=>$au)", "0")) {
        xlog("L_NOTICE", "REGISTER digest failed for '$au' ($si:$sp)\\n");
        www_challenge("${realm}", "0");
        exit;
    }
    if ($au != $tU) {
        sl_send_reply("403", "Auth user does not match To user");
        exit;
    }
    consume_credentials();
    # 0x04: keep one contact per user, replacing the contact of a page that went away.
    if (!save("location", "0x04")) {
        sl_reply_error();
    }
    xlog("L_INFO", "registered $tU -> $ct\\n");
}

# Browsers (WebSocket) must authenticate; devices and SIPp on UDP/TCP are trusted.
route[AUTH] {
    if (!(proto == WS || proto == WSS) || is_method("ACK|CANCEL|PRACK")) {
        return;
    }
    if (!has_credentials("${realm}") || $sht(users=>$au) == $null) {
        proxy_challenge("${realm}", "0");
        exit;
    }
    if (!pv_proxy_authenticate("${realm}", "$sht(users=>$au)", "0")) {
        xlog("L_NOTICE", "$rm digest failed for '$au' ($si:$sp)\\n");
        proxy_challenge("${realm}", "0");
        exit;
    }
    if ($au != $fU) {
        sl_send_reply("403", "Auth user does not match From user");
        exit;
    }
    consume_credentials();
}

# The transcoding route: a call to sip:${TRANSCODE_PREFIX}<user>@${p.domain} (PCMU), or an INVITE with
# "${TRANSCODE_HEADER}: PCMU" (${TRANSCODE_CODECS.join(', ')}), goes through rtpengine even browser to browser; the
# callee is offered only that codec, the caller keeps its own, rtpengine re-encodes both ways.
route[TRANSCODE] {
    if (!is_method("INVITE")) {
        return;
    }
    if ($rU =~ "^${TRANSCODE_PREFIX}.") {
        $var(transcode) = "PCMU";
        $rU = $(rU{s.substr,${TRANSCODE_PREFIX.length},0});
    } else if (is_present_hf("${TRANSCODE_HEADER}")) {
        if (!($hdr(${TRANSCODE_HEADER}) =~ "^(${TRANSCODE_CODECS.join('|')})$")) {
            sl_send_reply("400", "${TRANSCODE_HEADER}: one of ${TRANSCODE_CODECS.join(', ')}");
            exit;
        }
        $var(transcode) = $hdr(${TRANSCODE_HEADER});
        remove_hf("${TRANSCODE_HEADER}");
    } else {
        return;
    }
    add_rr_param(";transcode=$var(transcode)");
    xlog("L_INFO", "transcode: $rU is offered $var(transcode) only\\n");
}

# Devices are reached by name: sip:echo@${p.domain}, sip:baresip@${p.domain}.
route[DEVICES] {
${deviceRoutes || '    return;'}
}

route[LOCATION] {
    if (!lookup("location")) {
        $var(rc) = $rc;
        t_newtran();
        switch ($var(rc)) {
            case -2:
                send_reply("405", "Method Not Allowed");
                exit;
            default:
                send_reply("404", "Not Found");
                exit;
        }
    }
    route(MEDIA_OFFER);
    route(RELAY);
}

route[RELAY] {
    if (is_method("INVITE|SUBSCRIBE|UPDATE")) {
        t_on_reply("MANAGE_REPLY");
    }
    if (is_method("INVITE")) {
        t_on_failure("MANAGE_FAILURE");
    }
    xlog("L_INFO", "relay $rm to du=$du ru=$ru\\n");
    if (!t_relay()) {
        sl_reply_error();
    }
    exit;
}

# A browser offers UDP/TLS/RTP/SAVPF; a browser is reached over ws/wss. rtpengine bridges
# when exactly one side is a browser, anchors plain<->plain, and stays out of browser<->browser
# unless the call is on the transcoding route.
route[MEDIA_OFFER] {
    if (!has_body("application/sdp")) {
        return;
    }
    $var(fromWebrtc) = 0;
    $var(toWebrtc) = 0;
    if (sdp_with_transport("UDP/TLS/RTP/SAVPF")) {
        $var(fromWebrtc) = 1;
    }
    if (($du != $null && $du =~ "transport=wss?") || ($du == $null && $ru =~ "transport=wss?")) {
        $var(toWebrtc) = 1;
    }
    if ($var(fromWebrtc) == 1 && $var(toWebrtc) == 1) {
        if ($var(transcode) == "") {
            xlog("L_INFO", "media: browser to browser, no rtpengine\\n");
            return;
        }
        setflag(FLT_WEBRTC_BOTH);
        $var(offerFlags) = "${rtpengineFlags.webrtcOfferToWebrtc}";
    } else if ($var(fromWebrtc) == 1) {
        setflag(FLT_TO_PLAIN);
        $var(offerFlags) = "${rtpengineFlags.webrtcOfferToPlain}";
    } else if ($var(toWebrtc) == 1) {
        setflag(FLT_TO_WEBRTC);
        $var(offerFlags) = "${rtpengineFlags.plainOfferToWebrtc}";
    } else {
        setflag(FLT_PLAIN);
        $var(offerFlags) = "${rtpengineFlags.plainToPlain}";
    }
    if ($var(transcode) != "") {
        setflag(FLT_TRANSCODE);
    }
    # The caller's offers of a transcoded call set up the codecs; the callee's re-INVITEs keep them.
    if ($var(transcode) == "callee") {
        $var(offerFlags) = $var(offerFlags) + " ${rtpengineCalleeReofferFlags}";
    } else if ($var(transcode) != "") {
        $var(offerFlags) = $var(offerFlags) + " ${rtpengineTranscodeFlags}" + $var(transcode);
        xlog("L_INFO", "media: rtpengine transcodes, the callee is offered $var(transcode) only\\n");
    }
    route(RTPENGINE_SDP);
    rtpengine_offer("$var(offerFlags)");
    $var(ok) = $rc;
    if ($var(ok) < 0) {
        xlog("L_ERR", "media: rtpengine_offer failed\\n");
        sl_send_reply("503", "Media relay unavailable");
        exit;
    }
}

route[MEDIA_ANSWER] {
    if (!has_body("application/sdp")) {
        return;
    }
    route(RTPENGINE_SDP);
    if (isflagset(FLT_TO_PLAIN)) {
        rtpengine_answer("${rtpengineFlags.plainAnswerToWebrtc}");
    } else if (isflagset(FLT_TO_WEBRTC)) {
        rtpengine_answer("${rtpengineFlags.webrtcAnswerToPlain}");
    } else if (isflagset(FLT_PLAIN)) {
        rtpengine_answer("${rtpengineFlags.plainToPlain}");
    } else if (isflagset(FLT_WEBRTC_BOTH)) {
        rtpengine_answer("${rtpengineFlags.webrtcAnswerToWebrtc}");
    }
}

# The SDP rtpengine reads: the message's. On the transcoding route without its a=ssrc lines: transcoded
# RTP leaves rtpengine with SSRCs of its own, not the ones the SDP announced (rtpengine 10.5 passes
# a=ssrc through), and a browser then counts the packets but plays none of them (silence at both
# ends, measured); without a=ssrc it plays whatever SSRC comes on the media section. (Not with
# sdpops and msg_apply_changes: a request's changes cannot be applied after record_route().)
route[RTPENGINE_SDP] {
    if (isflagset(FLT_TRANSCODE)) {
        $var(rtpengineSdp) = $(rb{re.subst,/a=ssrc[^[:cntrl:]]*[[:cntrl:]]+//g});
    } else {
        $var(rtpengineSdp) = $rb;
    }
}

onreply_route[MANAGE_REPLY] {
    xlog("L_INFO", "<-- $rs $rr ($rm) from $si:$sp/$proto\\n");
    if (nat_uac_test("64")) {
        add_contact_alias();
    }
    if (status =~ "(18[0-9])|(2[0-9][0-9])") {
        route(MEDIA_ANSWER);
    }
}

failure_route[MANAGE_FAILURE] {
    xlog("L_INFO", "failed $rm: $T_reply_code $T_reply_reason\\n");
    if (!has_totag()) {
        rtpengine_delete();
    }
}

# What actually goes on the wire: the transport chosen (udp_mtu may turn UDP into TCP) and the size.
onsend_route {
    xlog("L_INFO", "send $rm to $sndto(ip):$sndto(port) proto=$snd(sproto) len=$snd(len)\\n");
}

event_route[xhttp:request] {
    set_reply_close();
    set_reply_no_connect();
    if ($Rp != ${p.ports.ws} && $Rp != ${p.ports.wss}) {
        xhttp_reply("403", "Forbidden", "", "");
        exit;
    }
    if ($hdr(Upgrade) =~ "websocket" && $hdr(Connection) =~ "Upgrade" && $rm =~ "GET") {
        if (ws_handle_handshake()) {
            exit;
        }
    }
    xhttp_reply("404", "Not Found", "", "");
}

event_route[websocket:closed] {
    xlog("L_INFO", "websocket closed $si:$sp\\n");
}
`;
}

/** The digest users as an event route that fills the 'users' htable when Kamailio starts. */
export function kamailioUsersFile(users: readonly LabUser[]): string {
  const lines = users.map((u) => `    $sht(users=>${u.user}) = "${u.password}";`);
  return `# Generated by 'callwright lab up': the lab's digest users (test credentials).\nevent_route[htable:mod-init] {\n${lines.join('\n')}\n}\n`;
}

export function kamailioTlsConfig(certificate: string, privateKey: string): string {
  return `# Generated by 'callwright lab up': wss with a self-signed certificate.
[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
private_key = ${privateKey}
certificate = ${certificate}

[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
`;
}
