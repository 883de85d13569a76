/** The gateway's URL, the first field of both ways in (sign-in and token). */
export function GatewayUrlField({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  return (
    <label>
      Gateway URL
      <input
        name="gatewayUrl"
        type="url"
        required
        autoComplete="url"
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
    </label>
  );
}
