import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import { NavBar } from '../src/nav-bar';
import './globals.css';

export const metadata: Metadata = { title: 'Vansales Connect console' };
export const viewport: Viewport = { width: 'device-width', initialScale: 1 };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <a className="skip" href="#main">
          Skip to content
        </a>
        <NavBar />
        <main id="main">{children}</main>
      </body>
    </html>
  );
}
