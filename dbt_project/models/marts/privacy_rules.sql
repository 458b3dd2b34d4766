{#- The privacy rules the marts were built under, published with them: readers that aggregate the marts
    themselves (the dashboards' shopper-group filters) apply the same threshold instead of a copy. -#}
select {{ var('k_anonymity') }}::integer as k_anonymity
