import Link from 'next/link';

export function NotConnected() {
  return (
    <p>
      Not connected. <Link href="/">Connect to a gateway</Link> first.
    </p>
  );
}
