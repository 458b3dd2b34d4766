{#- Per store x zone x local date x hour (of each visit's first entry into the zone). #}
with

zone_visits as (

    select * from {{ ref('int_zone_visits') }}

),

zones as (

    select * from {{ ref('stg_zones') }}

),

zone_hours as (

    select
        store_id,
        zone_id,
        local_date,
        local_hour,
        count(*) as visitors,
        cast(sum(stops) as bigint) as stops,
        sum(dwell_s) as total_dwell_s,
        median(dwell_s) as median_dwell_s,
        count(*) filter (where is_pass_through) as pass_through_visitors,
        count(*) filter (where units_bought > 0) as converted_visitors,
        cast(sum(revenue_krw) as bigint) as revenue_krw,

    from zone_visits
    group by store_id, zone_id, local_date, local_hour

),

final as (

    select
        zone_hours.store_id,
        zone_hours.zone_id,
        zones.zone_kind,
        zone_hours.local_date,
        zone_hours.local_hour,
        zone_hours.visitors,
        zone_hours.stops,
        zone_hours.total_dwell_s,
        zone_hours.median_dwell_s,
        zone_hours.pass_through_visitors / zone_hours.visitors as pass_through_share,
        zone_hours.converted_visitors,
        zone_hours.converted_visitors / zone_hours.visitors as conversion_rate,
        zone_hours.revenue_krw,
        zone_hours.total_dwell_s / nullif(
            sum(zone_hours.total_dwell_s) over (
                partition by zone_hours.store_id, zone_hours.local_date, zone_hours.local_hour
            ),
            0
        ) as dwell_share,

    from zone_hours
    inner join zones on zone_hours.zone_id = zones.zone_id

)

select * from final
