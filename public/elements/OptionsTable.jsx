// The recommended options as one table; a row opens its details and rationale underneath, with Deploy and
// Save buttons bound to this recommendation and the row's rank (so a button on an older plan acts on that
// plan). Props come from app/chat/views.py: options_table_props(). Chainlit renders this file in the
// browser (public/elements/<name>.jsx) with `props` and `callAction` in scope.
import { useState } from "react";
import { Markdown } from "@/components/markdown";

const cell = { padding: "6px 8px", whiteSpace: "nowrap", textAlign: "left" };
const num = { ...cell, textAlign: "right", fontVariantNumeric: "tabular-nums" };
const button = {
  padding: "4px 10px",
  marginRight: "8px",
  borderRadius: "6px",
  border: "1px solid currentColor",
  background: "transparent",
  cursor: "pointer",
  fontSize: "13px",
};

export default function OptionsTable() {
  const [open, setOpen] = useState(null);
  const rows = props.rows || [];
  const act = (name, rank) =>
    callAction({
      name,
      payload: { rank, recommendation_id: props.recommendation_id, target: "local" },
    });
  return (
    <div style={{ overflowX: "auto", maxWidth: "100%", fontSize: "14px" }} data-testid="options-table">
      <table style={{ borderCollapse: "collapse", width: "100%" }}>
        <thead>
          <tr style={{ borderBottom: "1px solid rgba(128,128,128,0.4)", opacity: 0.8 }}>
            {props.columns.map((c, i) => (
              <th key={c} style={i >= 3 ? num : cell}>{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => [
            <tr
              key={`row-${r.rank}`}
              data-testid={`option-row-${r.rank}`}
              onClick={() => setOpen(open === r.rank ? null : r.rank)}
              style={{ cursor: "pointer", borderBottom: "1px solid rgba(128,128,128,0.2)" }}
              title="Show the details"
            >
              <td style={cell}>
                {open === r.rank ? "▾" : "▸"} {r.rank}
                {r.star ? " ★" : ""}
              </td>
              <td style={cell}>{r.model}</td>
              <td style={cell}>{r.gpus}</td>
              {r.numbers.map((v, i) => (
                <td key={i} style={num}>{v}</td>
              ))}
            </tr>,
            open === r.rank ? (
              <tr key={`details-${r.rank}`} data-testid={`option-details-${r.rank}`}>
                <td colSpan={props.columns.length} style={{ padding: "8px 12px", whiteSpace: "normal" }}>
                  <Markdown>{r.details}</Markdown>
                  <div style={{ marginTop: "8px" }}>
                    <button style={button} onClick={() => act("deploy", r.rank)}>
                      Deploy #{r.rank}
                    </button>
                    <button style={button} onClick={() => act("save_scenario", r.rank)}>
                      Save #{r.rank}
                    </button>
                  </div>
                </td>
              </tr>
            ) : null,
          ])}
        </tbody>
      </table>
      {props.legend ? (
        <div style={{ fontSize: "12px", opacity: 0.75, marginTop: "6px", whiteSpace: "normal" }}>
          {props.legend}
        </div>
      ) : null}
    </div>
  );
}
