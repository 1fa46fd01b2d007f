// Integrations in a real browser against the whole running system: a person makes an API token
// on the account page, a bot edits with it through the y-websocket client and the history panel
// names the token; revoked there, the token stops working. An owner adds a webhook in the share
// dialog, a receiver on this machine gets a signed delivery, and the dialog shows it delivered.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it, vi } from "vitest";
import { Webhook } from "standardwebhooks";
import * as Y from "yjs";
import { accessibilityViolations, artifact, editorOf, openText, signIn, textOf, useBrowserSystem, WAIT } from "./browser-harness.ts";
import { connectClient } from "../collab-client.ts";

const env = useBrowserSystem("browser-integrations");

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}
const received: Received[] = [];
const receiver = http.createServer((req, res) => {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (chunk: string) => (body += chunk));
  req.on("end", () => {
    received.push({ headers: req.headers, body });
    res.writeHead(204).end();
  });
});
const listening = new Promise<number>((resolve) => receiver.listen(0, "127.0.0.1", () => resolve((receiver.address() as AddressInfo).port)));
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

describe("integrations in the browser", () => {
  it("an API token made on the account page lets a bot edit, the history names it, and revoking it there stops it", { timeout: 180_000 }, async () => {
    const owner = await env.person("Tia Tokens");
    const doc = await owner.api.createDoc("Bot notes");
    const T = await env.open("tokens");
    const t = T.page;
    await signIn(t, owner);
    await t.goto("/account");
    const section = t.getByRole("region", { name: "API tokens" });
    await section.getByLabel("Name").fill("Release bot");
    await section.getByLabel("edit").check();
    await section.getByRole("button", { name: "Create token" }).click();
    const value = section.getByLabel("The new token");
    const token = await value.inputValue();
    expect(token).toMatch(/^pal_/);
    await t.screenshot({ path: artifact("api-tokens.png") });
    await section.getByRole("button", { name: "Done" }).click();
    await section.getByText("Release bot").waitFor();
    expect(await section.getByLabel("The new token").count()).toBe(0);
    expect(await accessibilityViolations(t)).toEqual([]);

    // The bot: the plain y-websocket client with the token as its ?token= parameter.
    const bot = connectClient(env.system.gatewayUrl(), doc.id, token);
    await vi.waitFor(() => expect(bot.provider.synced).toBe(true), WAIT);
    const paragraph = new Y.XmlElement("paragraph");
    paragraph.insert(0, [new Y.XmlText("Written by the bot.")]);
    bot.doc.getXmlFragment("default").insert(0, [paragraph]);
    await openText(t, doc);
    await vi.waitFor(async () => expect(await textOf(t)).toContain("Written by the bot."), WAIT);
    await t.getByRole("button", { name: "History" }).click();
    await t.getByTestId("history-sessions").getByText("via token Release bot").first().waitFor();
    await t.screenshot({ path: artifact("history-via-token.png") });
    bot.destroy();

    await t.goto("/account");
    t.once("dialog", (d) => void d.accept());
    await section.getByRole("button", { name: "Revoke" }).click();
    await section.getByText("No tokens yet.").waitFor();
    const refused = await fetch(`${env.system.gatewayUrl()}/api/docs/${doc.id}`, { headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(401);
    expect(T.errors).toEqual([]);
  });

  it("an owner adds a webhook in the share dialog; the receiver gets a signed delivery and the dialog shows it delivered", { timeout: 180_000 }, async () => {
    const port = await listening;
    const owner = await env.person("Hal Hooks");
    const doc = await owner.api.createDoc("Hooked");
    const H = await env.open("hooks");
    const h = H.page;
    await signIn(h, owner);
    await openText(h, doc);
    await editorOf(h).click();
    await h.getByRole("button", { name: "Share" }).click();
    const hooks = h.getByTestId("webhooks");
    await hooks.getByLabel("Webhook URL").fill(`http://127.0.0.1:${port}/palimpsest`);
    await hooks.getByRole("button", { name: "Add webhook" }).click();
    const secret = (await hooks.getByRole("status").locator("code").textContent()) ?? "";
    expect(secret).toMatch(/^whsec_/);

    await owner.api.call("PATCH", `/api/docs/${doc.id}`, { title: "Hooked and renamed" });
    await vi.waitFor(() => expect(received.map((r) => JSON.parse(r.body).type)).toContain("doc.renamed"), WAIT);
    const delivery = received.find((r) => JSON.parse(r.body).type === "doc.renamed")!;
    const headers = Object.fromEntries(["webhook-id", "webhook-timestamp", "webhook-signature"].map((k) => [k, String(delivery.headers[k])]));
    expect(new Webhook(secret).verify(delivery.body, headers)).toMatchObject({ type: "doc.renamed", data: { docId: doc.id, title: "Hooked and renamed" } });

    await hooks.getByRole("button", { name: "Deliveries" }).click();
    await vi.waitFor(async () => {
      // The list is read when opened: reopen until the delivery is in it.
      if ((await hooks.getByText(/doc\.renamed · delivered/).count()) > 0) return;
      await hooks.getByRole("button", { name: "Deliveries" }).click();
      await hooks.getByRole("button", { name: "Deliveries" }).click();
      throw new Error("not listed yet");
    }, WAIT);
    await h.screenshot({ path: artifact("webhooks.png") });
    expect(H.errors).toEqual([]);
  });
});
