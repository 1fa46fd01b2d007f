// Registering in a real browser where the address is confirmed by email: the form says to check
// the inbox instead of signing in, the emailed link signs the new account in and opens the
// dashboard, and the same link opened again says it cannot be used.

import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { PASSWORD, unexpectedErrors, useBrowserSystem } from "./browser-harness.ts";
import { tokenIn, waitForMail } from "../mail-helpers.ts";

const env = useBrowserSystem("browser-registration", { env: { REGISTRATION_CONFIRMATION: "email" } });

describe("registration confirmed by email, in a real browser", () => {
  it("the form says to check the inbox; the emailed link signs in once", async () => {
    const email = `browser-reg-${randomUUID()}@example.test`;
    const A = await env.open("A");
    const a = A.page;
    await a.goto("/");
    await a.getByRole("button", { name: "Create an account" }).click();
    await a.getByLabel("Name").fill("Grace Newcomer");
    await a.getByLabel("Email").fill(email);
    await a.getByLabel("Password").fill(PASSWORD);
    await a.getByRole("button", { name: "Create account" }).click();
    await a.getByRole("heading", { name: "Check your email" }).waitFor();
    expect(await a.getByTestId("registration-sent").textContent()).toContain(email);

    const token = tokenIn((await waitForMail(email))[0]!, "/register/confirm/");
    await a.goto(`/register/confirm/${token}`);
    await a.getByRole("heading", { name: "Documents" }).waitFor();
    expect(new URL(a.url()).pathname).toBe("/");

    const B = await env.open("B");
    await B.page.goto(`/register/confirm/${token}`);
    await B.page.getByRole("heading", { name: "This link cannot be used" }).waitFor();
    expect(await B.page.getByRole("alert").textContent()).toMatch(/used or has expired/);
    expect(unexpectedErrors(A)).toEqual([]);
  });
});
