// A Matrix client as Element Web is one: the official JS SDK with its Rust crypto, driven by the
// Python integration tests over a JSON-lines protocol.
//
//   stdin:  one request a line   {"id": 1, "op": "login", ...}
//   stdout: one answer a line    {"id": 1, "ok": true, ...} or {"id": 1, "ok": false, "error": "…"}
//
// Everything the SDK logs goes to stderr; stdout carries only the answers.
// Operations: login, isolation, create_room, join, wait_member, device_status, send, wait_reply,
// stop.

import readline from "node:readline";

const protocol = process.stdout.write.bind(process.stdout);
for (const level of ["log", "info", "debug", "warn", "error", "trace"]) {
    console[level] = (...args) => process.stderr.write(args.map(String).join(" ") + "\n");
}

const sdk = await import("matrix-js-sdk");
const { logger } = await import("matrix-js-sdk/lib/logger.js");
const { AllDevicesIsolationMode, OnlySignedDevicesIsolationMode } =
    await import("matrix-js-sdk/lib/crypto-api/index.js");
logger.setLevel(process.env.CCT_PEER_LOG || "warn");

let client = null;

function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(what, timeoutS, probe) {
    const deadline = Date.now() + timeoutS * 1000;
    for (;;) {
        const found = await probe();
        if (found !== undefined && found !== null) return found;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutS} s: ${what}`);
        await sleep(200);
    }
}

async function login({ homeserver, user_id, password, device_id }) {
    const bare = sdk.createClient({ baseUrl: homeserver });
    const session = await bare.loginRequest({
        type: "m.login.password",
        identifier: { type: "m.id.user", user: user_id },
        password,
        device_id,
        initial_device_display_name: "element peer (tests)",
    });
    client = sdk.createClient({
        baseUrl: homeserver,
        userId: session.user_id,
        deviceId: session.device_id,
        accessToken: session.access_token,
    });
    await client.initRustCrypto({ useIndexedDB: false });
    const prepared = new Promise((resolve, reject) => {
        client.on(sdk.ClientEvent.Sync, (state) => {
            if (state === "PREPARED") resolve();
            if (state === "ERROR") reject(new Error("first sync failed"));
        });
    });
    await client.startClient({ initialSyncLimit: 20 });
    await prepared;
    // As Element does at the first login: the person's own cross-signing identity (needed to
    // encrypt at all in the "only signed devices" mode).
    await client.getCrypto().bootstrapCrossSigning({
        authUploadDeviceSigningKeys: (makeRequest) => makeRequest({
            type: "m.login.password", identifier: { type: "m.id.user", user: user_id }, password,
        }),
    });
    return { user_id: session.user_id, device_id: session.device_id };
}

function isolation({ mode, blacklist_unverified }) {
    const crypto = client.getCrypto();
    crypto.setDeviceIsolationMode(mode === "only_signed"
        ? new OnlySignedDevicesIsolationMode()
        : new AllDevicesIsolationMode(false));
    crypto.globalBlacklistUnverifiedDevices = Boolean(blacklist_unverified);
    return {};
}

async function createRoom({ name, invite, encrypted }) {
    const initial_state = encrypted
        ? [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }]
        : [];
    const { room_id } = await client.createRoom({ name, invite, preset: "private_chat", initial_state });
    await until(`room ${room_id} in the sync`, 30, () => client.getRoom(room_id));
    return { room_id };
}

async function join({ room_id }) {
    await client.joinRoom(room_id);
    await until(`room ${room_id} joined`, 30,
        () => client.getRoom(room_id)?.getMyMembership() === "join" ? true : undefined);
    return {};
}

async function waitMember({ room_id, user_id, membership, timeout }) {
    await until(`${user_id} ${membership} in ${room_id}`, timeout ?? 60,
        () => client.getRoom(room_id)?.getMember(user_id)?.membership === membership ? true : undefined);
    return {};
}

async function deviceStatus({ user_id, device_id, wait_signed, timeout }) {
    const crypto = client.getCrypto();
    const read = async () => {
        await crypto.getUserDeviceInfo([user_id], true);
        const status = await crypto.getDeviceVerificationStatus(user_id, device_id);
        if (status === null) return null;
        return {
            known: true,
            signed_by_owner: status.signedByOwner,
            cross_signing_verified: status.crossSigningVerified,
            locally_verified: status.locallyVerified,
        };
    };
    if (!wait_signed) return (await read()) ?? { known: false };
    try {
        return await until(`${device_id} signed by ${user_id}`, timeout ?? 30, async () => {
            const status = await read();
            return status?.signed_by_owner ? status : undefined;
        });
    } catch (error) {
        return { ...((await read()) ?? { known: false }), timed_out: true };
    }
}

async function send({ room_id, body }) {
    const { event_id } = await client.sendMessage(room_id, { msgtype: "m.text", body });
    return { event_id };
}

function describe(event) {
    const content = event.getContent();
    return {
        event_id: event.getId(),
        type: event.getType(),
        encrypted: event.isEncrypted(),
        decrypted: event.isEncrypted() && !event.isDecryptionFailure(),
        failure: event.decryptionFailureReason,
        msgtype: content.msgtype ?? null,
        body: content.body ?? null,
    };
}

async function waitReply({ room_id, sender, event_id, timeout }) {
    const room = client.getRoom(room_id);
    const reply = () => room.getLiveTimeline().getEvents().find(
        (event) => event.getSender() === sender && event.replyEventId === event_id);
    let found;
    try {
        found = await until(`a reply of ${sender} to ${event_id}`, timeout ?? 60, () => {
            const event = reply();
            if (!event || event.isBeingDecrypted()) return undefined;
            return event.isDecryptionFailure() ? undefined : event;
        });
    } catch (error) {
        const event = reply();
        if (!event) return { found: false };
        return { found: true, ...describe(event) };
    }
    return { found: true, ...describe(found) };
}

async function stop() {
    if (client) {
        client.stopClient();
        await client.logout(true).catch(() => {});
    }
    return {};
}

const operations = {
    login, isolation, create_room: createRoom, join, wait_member: waitMember,
    device_status: deviceStatus, send,
    wait_reply: waitReply, stop,
};

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
    if (!line.trim()) continue;
    const request = JSON.parse(line);
    const operation = operations[request.op];
    let answer;
    try {
        if (!operation) throw new Error(`unknown operation ${request.op}`);
        answer = { id: request.id, ok: true, ...(await operation(request)) };
    } catch (error) {
        answer = { id: request.id, ok: false, error: String(error?.stack ?? error) };
    }
    protocol(JSON.stringify(answer) + "\n");
    if (request.op === "stop") break;
}
process.exit(0);
