// A Matrix client as Element Web is one: the official JS SDK with its Rust crypto, driven by the
// Python integration tests over a JSON-lines protocol.
//
//   stdin:  one request a line   {"id": 1, "op": "login", ...}
//   stdout: one answer a line    {"id": 1, "ok": true, ...} or {"id": 1, "ok": false, "error": "…"}
//
// Everything the SDK logs goes to stderr; stdout carries only the answers.
// Operations: login, isolation, create_room, join, wait_member, device_status, send, wait_reply,
// wait_thread_reply, wait_message, polls, vote, stop.

import readline from "node:readline";

const protocol = process.stdout.write.bind(process.stdout);
for (const level of ["log", "info", "debug", "warn", "error", "trace"]) {
    console[level] = (...args) => process.stderr.write(args.map(String).join(" ") + "\n");
}

const sdk = await import("matrix-js-sdk");
const { logger } = await import("matrix-js-sdk/lib/logger.js");
const { AllDevicesIsolationMode, OnlySignedDevicesIsolationMode } =
    await import("matrix-js-sdk/lib/crypto-api/index.js");
const { PollStartEvent } = await import("matrix-js-sdk/lib/extensible_events_v1/PollStartEvent.js");
const { PollEndEvent } = await import("matrix-js-sdk/lib/extensible_events_v1/PollEndEvent.js");
const { PollResponseEvent } = await import("matrix-js-sdk/lib/extensible_events_v1/PollResponseEvent.js");
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

async function login({ homeserver, user_id, password, device_id, display_name, threads }) {
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
    // ``threads``: Element's thread model (thread events live in their thread's timeline).
    await client.startClient({ initialSyncLimit: 20, threadSupport: Boolean(threads) });
    await prepared;
    if (display_name) await client.setDisplayName(display_name);
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

async function send({ room_id, body, thread_root }) {
    // In a thread as Element sends it: the SDK adds the thread relation, falling back on the
    // thread's latest event.
    const { event_id } = await client.sendMessage(room_id, thread_root ?? null,
        { msgtype: "m.text", body });
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
        formatted_body: content.formatted_body ?? null,
        relates_to: event.getWireContent()["m.relates_to"] ?? null,
        thread_root: event.threadRootId ?? null,
        reply_to: event.replyEventId ?? null,
    };
}

function decrypted(event) {
    return event && !event.isBeingDecrypted() && !event.isDecryptionFailure() ? event : undefined;
}

async function waitThreadReply({ room_id, sender, event_id, root, timeout }) {
    // Where Element shows it: the thread's own timeline, not the room's.
    const room = client.getRoom(room_id);
    const inThread = () => room.getThread(root)?.timeline.find(
        (event) => event.getSender() === sender && event.replyEventId === event_id);
    const found = await until(`a reply of ${sender} to ${event_id} in the thread ${root}`,
        timeout ?? 60, () => decrypted(inThread()));
    const main = room.getLiveTimeline().getEvents().some((event) => event.getId() === found.getId());
    return { ...describe(found), in_thread: true, in_main_timeline: main };
}

async function waitMessage({ room_id, sender, contains, timeout }) {
    const room = client.getRoom(room_id);
    const events = () => [...room.getLiveTimeline().getEvents(),
        ...room.getThreads().flatMap((thread) => thread.timeline)];
    const found = await until(`a message of ${sender} saying ${contains}`, timeout ?? 60,
        () => decrypted(events().find((event) => event.getSender() === sender
            && (event.getContent().body ?? "").includes(contains))));
    return describe(found);
}

async function polls({ room_id, count, ended, timeout }) {
    // The SDK's own poll model (what Element renders): each start event parsed by
    // PollStartEvent, its end found among its relations and parsed by PollEndEvent.
    const room = client.getRoom(room_id);
    const all = await until(`${count} polls in ${room_id}`, timeout ?? 60, async () => {
        const found = [...room.polls.values()];
        if (found.length < count) return undefined;
        for (const poll of found) await poll.getResponses();
        if (ended && !found.every((poll) => poll.isEnded)) return undefined;
        return found;
    });
    all.sort((a, b) => a.rootEvent.getTs() - b.rootEvent.getTs());
    const parse = (Parser, event) => {
        try {
            return new Parser({ type: event.getType(), content: event.getContent() });
        } catch {
            return undefined;
        }
    };
    return { polls: all.map((poll) => {
        const start = parse(PollStartEvent, poll.rootEvent);
        const end = poll.isEnded ? room.findEventById(poll.endEventId) : undefined;
        const closing = end && parse(PollEndEvent, end);
        return {
            event_id: poll.pollId,
            // what the client made of it (the poll Element renders) and the SDK's parsers
            parsed: poll.pollEvent?.constructor?.name === "PollStartEvent" && start !== undefined,
            question: start?.question?.text ?? null,
            kind: start?.kind?.name ?? null,
            max_selections: start?.maxSelections ?? null,
            answers: (start?.answers ?? []).map((answer) => ({ id: answer.id, text: answer.text })),
            relates_to: poll.rootEvent.getWireContent()["m.relates_to"] ?? null,
            thread_root: poll.rootEvent.threadRootId ?? null,
            ended: poll.isEnded,
            end_parsed: end?.unstableExtensibleEvent?.constructor?.name === "PollEndEvent"
                && closing !== undefined,
            end_text: closing?.closingMessage?.text ?? null,
            end_poll: closing?.pollEventId ?? null,
            // the bot's contents, and the SDK's own builders' from what it parsed
            content: poll.rootEvent.getContent(),
            sdk_content: JSON.parse(JSON.stringify(start?.serialize().content ?? null)),
            end_content: end?.getContent() ?? null,
            sdk_end_content: JSON.parse(JSON.stringify(closing?.serialize().content ?? null)),
        };
    }) };
}

async function vote({ room_id, poll_event_id, answer }) {
    // As Element's poll body does: the SDK's PollResponseEvent, serialised.
    const response = PollResponseEvent.from([answer], poll_event_id).serialize();
    const { event_id } = await client.sendEvent(room_id, response.type, response.content);
    return { event_id };
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
    wait_reply: waitReply, wait_thread_reply: waitThreadReply, wait_message: waitMessage, polls,
    vote, stop,
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
