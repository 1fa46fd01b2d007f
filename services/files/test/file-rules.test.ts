import { describe, expect, it } from "vitest";
import { AppError, type AnyDomainEvent } from "@palimpsest/contracts";
import { checkQuota, checkType, contentDisposition, dispositionFor, liveFiles, matchesEtag, oversizedImage, safeFileName } from "../src/file-rules.ts";

describe("file names", () => {
  it("keep what the uploader called it, without directories, control or reordering characters", () => {
    expect(safeFileName("report.pdf")).toBe("report.pdf");
    expect(safeFileName("../../etc/passwd")).toBe("passwd");
    expect(safeFileName("C:\\Users\\me\\photo.png")).toBe("photo.png");
    expect(safeFileName("a\u0000b\r\nc.png")).toBe("abc.png");
    expect(safeFileName("invoice\u202Efdp.exe")).toBe("invoicefdp.exe");
    expect(safeFileName("  many   spaces .png ")).toBe("many spaces .png");
    expect(safeFileName("")).toBe("file");
    expect(safeFileName("..")).toBe("file");
    expect([...safeFileName("é".repeat(300))]).toHaveLength(255);
  });

  it("go into Content-Disposition as RFC 5987 with an ASCII stand-in that cannot break the header", () => {
    expect(contentDisposition("inline", "photo.png")).toBe(`inline; filename="photo.png"; filename*=UTF-8''photo.png`);
    const h = contentDisposition("attachment", 'Ünï "q" 50%\\x (1).pdf');
    expect(h).toBe(`attachment; filename="_n_ _q_ 50__x (1).pdf"; filename*=UTF-8''%C3%9Cn%C3%AF%20%22q%22%2050%25%5Cx%20%281%29.pdf`);
    expect(h).not.toMatch(/[\r\n]/);
    expect(decodeURIComponent(h.split("UTF-8''")[1]!)).toBe('Ünï "q" 50%\\x (1).pdf');
  });

  it("images show inline, everything else is saved", () => {
    expect(dispositionFor("image/png", undefined)).toBe("inline");
    expect(dispositionFor("image/png", true)).toBe("attachment");
    expect(dispositionFor("application/pdf", false)).toBe("attachment");
  });
});

describe("limits", () => {
  it("refuse by the sniffed type and by quota, with codes a client can act on", () => {
    expect(checkType("image/png", ["image/png"])).toBe("image/png");
    expect(() => checkType(undefined, ["image/png"])).toThrow(AppError);
    try {
      checkType("application/zip", ["image/png"]);
      expect.unreachable();
    } catch (err) {
      expect((err as AppError).code).toBe("UNSUPPORTED_MEDIA_TYPE");
    }
    expect(() => checkQuota(90, 10, 100)).not.toThrow();
    try {
      checkQuota(90, 11, 100);
      expect.unreachable();
    } catch (err) {
      expect((err as AppError).code).toBe("QUOTA_EXCEEDED");
      expect((err as AppError).details).toEqual({ used: 90, size: 11, quota: 100 });
    }
  });

  it("ETags match exactly, weakly or by *", () => {
    expect(matchesEtag('"a"', '"a"')).toBe(true);
    expect(matchesEtag('W/"a", "b"', '"a"')).toBe(true);
    expect(matchesEtag("*", '"a"')).toBe(true);
    expect(matchesEtag('"b"', '"a"')).toBe(false);
    expect(matchesEtag(undefined, '"a"')).toBe(false);
  });
});

describe("a purge", () => {
  it("deletes exactly the files still attached", () => {
    const at = new Date().toISOString();
    const up = (fileId: string): AnyDomainEvent => ({
      id: `u-${fileId}`,
      type: "file.uploaded.v1",
      at,
      data: { docId: "d", fileId, uploaderId: "u", name: `${fileId}.png`, contentType: "image/png", size: 1, key: `files/d/${fileId}`, via: "service" },
    });
    const del = (fileId: string): AnyDomainEvent => ({ id: `d-${fileId}`, type: "file.deleted.v1", at, data: { docId: "d", fileId, reason: "deleted" } });
    expect(liveFiles([up("a"), up("b"), del("a"), up("c")])).toEqual([
      { fileId: "b", key: "files/d/b" },
      { fileId: "c", key: "files/d/c" },
    ]);
  });
});

describe("images for thumbnails", () => {
  it("are refused by the pixels their header claims, and when it claims none", () => {
    expect(oversizedImage(4000, 3000, 12_000_000)).toBeUndefined();
    expect(oversizedImage(4000, 3001, 12_000_000)).toMatch(/4000×3001 pixels.*12000000/);
    expect(oversizedImage(30_000, 30_000, 40_000_000)).toBeDefined();
    expect(oversizedImage(undefined, 100, 40_000_000)).toBeDefined();
    expect(oversizedImage(100, 0, 40_000_000)).toBeDefined();
  });
});
