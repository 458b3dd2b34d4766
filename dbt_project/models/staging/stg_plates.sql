with

source as (

    select * from {{ source('catalog', 'plates') }}

),

renamed as (

    select
        plate_id,
        store_id,
        zone_id,
        gondola_id,
        cast(shelf as integer) as shelf,
        cast(position as integer) as position,
        product_id,
        x_m,
        y_m,
        z_m,
        width_m,
        cast(capacity_units as integer) as capacity_units,
        reach_x_m,
        reach_y_m,

    from source

)

select * from renamed
