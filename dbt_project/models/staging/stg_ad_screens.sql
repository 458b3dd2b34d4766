with

source as (

    select * from {{ source('catalog', 'ad_screens') }}

),

renamed as (

    select
        ad_screen_id,
        store_id,
        zone_id,
        x_m,
        y_m,
        z_m,

    from source

)

select * from renamed
