{#- Occupancy of each floor cell per store x local date x hour: the average number of people in the cell. #}
with

cells as (

    select * from {{ ref('int_floor_cells') }}

),

zones as (

    select * from {{ ref('stg_zones') }}

),

cell_hours as (

    select
        store_id,
        local_date,
        local_hour,
        cell_x,
        cell_y,
        sum(person_seconds) as person_seconds,
        cast(sum(samples) as bigint) as samples,
        cast(sum(tracks) as bigint) as tracks,

    from cells
    group by store_id, local_date, local_hour, cell_x, cell_y

),

located as (

    select
        cell_hours.*,
        (cell_hours.cell_x + 0.5) * {{ var('floor_cell_m') }} as centre_x_m,
        (cell_hours.cell_y + 0.5) * {{ var('floor_cell_m') }} as centre_y_m,

    from cell_hours

),

final as (

    select
        located.store_id,
        located.local_date,
        located.local_hour,
        located.cell_x,
        located.cell_y,
        located.cell_x * {{ var('floor_cell_m') }} as x0_m,
        located.cell_y * {{ var('floor_cell_m') }} as y0_m,
        {{ var('floor_cell_m') }} as cell_m,
        zones.zone_id,
        located.person_seconds,
        located.person_seconds / 3600 as occupancy,
        located.person_seconds / nullif(
            sum(located.person_seconds) over (
                partition by located.store_id, located.local_date, located.local_hour
            ),
            0
        ) as occupancy_share,
        located.samples,
        located.tracks,

    from located
    left join zones
        on located.store_id = zones.store_id
        and located.centre_x_m >= zones.x0_m and located.centre_x_m < zones.x1_m
        and located.centre_y_m >= zones.y0_m and located.centre_y_m < zones.y1_m

)

select * from final
