// An uploaded image as React draws it (board cards, the attachments list): the bytes come
// through the authenticated loader, so the <img> never needs a token of its own.

import type { ReactNode } from "react";
import { useFileUrl } from "./file-urls";
import type { FileVariant } from "./file-urls";

interface FilePictureProps {
  fileId: string;
  alt: string;
  variant?: FileVariant;
  className?: string;
}

export function FilePicture({ fileId, alt, variant = "original", className }: FilePictureProps): ReactNode {
  const { url, error } = useFileUrl(fileId, variant);
  if (error) {
    return (
      <span className="file-picture-missing" data-file-id={fileId}>
        {error}
      </span>
    );
  }
  if (!url) return <span className="file-picture-loading" data-file-id={fileId} aria-busy="true" aria-label={`Loading ${alt}`} />;
  return <img className={className} src={url} alt={alt} data-file-id={fileId} draggable={false} />;
}
