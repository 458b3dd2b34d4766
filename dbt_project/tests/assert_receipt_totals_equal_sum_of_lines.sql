{#- Revenue = sum of lines: each visit's charged receipt total equals the sum of its lines in
    fct_purchase_lines (a line lost or loaded twice by an incremental run shows up here). -#}
select
    visit_id,
    receipt_total_krw,
    lines_amount_krw,
from {{ ref('fct_visits') }}
where receipt_total_krw <> lines_amount_krw
