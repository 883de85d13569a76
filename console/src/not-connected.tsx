import Link from 'next/link';

export function NotConnected() {
  return (
    <p>
      Not signed in. <Link href="/">Sign in</Link> first.
    </p>
  );
}
