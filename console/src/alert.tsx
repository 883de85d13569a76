/** An error a person can act on, announced by screen readers (role="alert"). Renders nothing when empty. */
export function Alert({ message, id }: { message: string; id?: string }) {
  if (!message) return null;
  return (
    <p id={id} role="alert" className="error">
      {message}
    </p>
  );
}
